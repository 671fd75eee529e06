"""Control from Prefect: ``halt``, ``resume`` and ``close`` flows (deployments in prefect.yaml).

One source of truth: the kill switch is the DB flag (``pm_lib.store.control``) every order
path checks. ``halt`` and ``resume`` set it (by ``prefect-flow``) and show the new state in the
Prefect Variable ``pm_agent_halted``, the switch a trader may also edit in the UI (read at every
run start and before every opportunity, ``flows.runtime.ui_switch``). ``close`` sells open
positions through the run's executor on the unwind path (``pm_lib.pipeline.close``); it goes
through while halted.
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import acreate_table_artifact  # noqa: E402

from flows.alerts import FILLED, HALTED, RESUMED, emit  # noqa: E402
from flows.runtime import (  # noqa: E402
    name_failed_run,
    open_run,
    rename_flow_run,
    run_settings,
    starting_name,
    store_engine,
    write_switch,
)
from pm_lib.pipeline.close import ClosedPosition, close_positions  # noqa: E402
from pm_lib.pipeline.records import fail_run  # noqa: E402
from pm_lib.reporting.tables import plain_decimal  # noqa: E402
from pm_lib.store.control import halt as store_halt  # noqa: E402
from pm_lib.store.control import resume as store_resume  # noqa: E402
from pm_lib.store.engine import session_scope  # noqa: E402
from pm_lib.store.runs import finish_run  # noqa: E402
from pm_lib.venue.http import open_venue_client  # noqa: E402

__all__ = ["close", "close_rows", "halt", "resume", "set_kill_switch"]

FLOW_BY = "prefect-flow"


def set_kill_switch(on: bool, reason: str, by: str) -> None:
    """Set the DB flag (the one source of truth), then show it in the UI Variable and emit
    the halted/resumed event. The Variable write comes second: if it fails the flag is set, and
    a stale Variable can only halt again (``pm_lib.store.control.apply_switch``)."""
    settings = run_settings()
    with session_scope(store_engine(settings)) as session:
        (store_halt if on else store_resume)(session, reason, by)
    write_switch(on, reason)
    emit(HALTED if on else RESUMED, settings.mode, {"reason": reason, "by": by})


@flow(name="halt", timeout_seconds=60, persist_result=False)
async def halt(reason: str = "halted from Prefect") -> dict[str, Any]:
    """Kill switch on: no new orders from any run until ``resume`` (unwinds and closes still
    go through)."""
    set_kill_switch(True, reason, FLOW_BY)
    get_run_logger().warning("trading HALTED: %s", reason)
    await rename_flow_run(f"HALTED: {reason}"[:100])
    return {"halted": True, "reason": reason}


@flow(name="resume", timeout_seconds=60, persist_result=False)
async def resume(reason: str = "resumed from Prefect") -> dict[str, Any]:
    """Kill switch off (whoever set it): the next run may trade again."""
    set_kill_switch(False, reason, FLOW_BY)
    get_run_logger().info("trading resumed: %s", reason)
    await rename_flow_run(f"resumed: {reason}"[:100])
    return {"halted": False, "reason": reason}


def close_rows(closed: list[ClosedPosition]) -> list[dict[str, str]]:
    """One row per position the close tried to sell."""
    return [
        {
            "token_id": c.token_id,
            "held": plain_decimal(c.held, 2),
            "avg_price": plain_decimal(c.avg_price),
            "sold": plain_decimal(c.sold, 2),
            "price": plain_decimal(c.result.avg_price) if c.result else "",
            "status": str(c.result.status) if c.result else "not sent",
            "detail": c.detail,
        }
        for c in closed
    ]


@flow(
    name="close",
    flow_run_name=starting_name("close"),
    timeout_seconds=300,
    persist_result=False,
    on_failure=[name_failed_run],
    on_crashed=[name_failed_run],
)
async def close(
    token_id: str | None = None,
    all_positions: bool = False,
    live: bool = False,
    max_loss: str | None = None,
) -> dict[str, Any]:
    """Sell one position (``token_id``) or every open one (``all_positions``) in the run's
    mode (paper, or live when armed as for a scan), on the unwind path: one FAK SELL of the
    shares held, losing at most ``max_loss`` pUSD against the average cost (default
    ``PM_UNWIND_MAX_LOSS``)."""
    if bool(token_id) == all_positions:
        from pm_lib.errors import ConfigurationError

        raise ConfigurationError("close: give a token_id or all_positions=true (not both)")
    logger = get_run_logger()
    ctx = open_run("close", live=live)
    try:
        async with open_venue_client(ctx.settings) as client:
            closed = await close_positions(
                ctx,
                client,
                [token_id] if token_id else None,
                max_loss=Decimal(max_loss) if max_loss is not None else None,
            )
    except Exception as error:
        fail_run(ctx, error)
        raise
    with session_scope(ctx.engine) as session:
        finish_run(session, ctx.run_id, status="completed", finished_at=ctx.now())
    rows = close_rows(closed)
    for row in rows:
        logger.info(
            "close %s: SELL %s held at avg %s -> sold %s at %s (%s) %s",
            row["token_id"],
            row["held"],
            row["avg_price"],
            row["sold"],
            row["price"] or "-",
            row["status"],
            row["detail"],
        )
        if row["sold"] != "0":
            emit(FILLED, ctx.mode, {"token_id": row["token_id"], "side": "SELL", **row})
    await acreate_table_artifact(
        rows or [{"close": "no open position"}],
        key="close",
        description=f"Positions closed ({ctx.mode})",
    )
    sold = sum(1 for c in closed if c.sold > 0)
    await rename_flow_run(f"{ctx.mode} close: {len(closed)} position(s), {sold} sold")
    return {"run_id": ctx.run_id, "mode": ctx.mode, "positions": rows}
