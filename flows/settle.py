"""settle: redeem the positions of resolved markets at their payout (``pm_lib.settlement``).

Paper only for now (deployment ``settle-paper``, every 15 minutes): it reads how the held
markets resolved (Gamma), journals one settlement per held token of a resolved market and
applies it once (a synthetic SELL fill at the payout in the ledger). A live run reports what
would be redeemed and fails with the refusal: pm-agent does not redeem on chain yet. It never
places an order. An artifact lists what was resolved, settled and realised.
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

from typing import Any  # noqa: E402

from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import acreate_markdown_artifact  # noqa: E402

from flows.runtime import (  # noqa: E402
    name_failed_run,
    open_run,
    rename_flow_run,
    starting_name,
)
from pm_lib.errors import PmAgentError  # noqa: E402
from pm_lib.pipeline.records import fail_run  # noqa: E402
from pm_lib.settlement import SettleReport, report_json  # noqa: E402
from pm_lib.settlement import settle as settle_account  # noqa: E402
from pm_lib.store.engine import session_scope  # noqa: E402
from pm_lib.store.runs import finish_run  # noqa: E402

__all__ = ["settle"]


class SettlementRefused(PmAgentError):
    """A live settle found positions to redeem and cannot redeem them (no chain side yet)."""


def _markdown(report: SettleReport) -> str:
    body = report_json(report)
    lines = [
        f"# pm-agent settle ({report.mode})",
        "",
        f"- markets newly resolved: {len(body['resolved'])}",
        f"- settled: {len(body['settled'])}, proceeds {body['proceeds']} pUSD, "
        f"realised {body['realised']} pUSD",
    ]
    for r in body["resolved"]:
        lines.append(f"- resolved {r['condition_id']}: {r['winning_outcome'] or 'no winner'}")
    if body["settled"]:
        lines += ["", "| token | shares | payout | proceeds | cost | fees | realised |"]
        lines += ["|---|---:|---:|---:|---:|---:|---:|"]
        lines += [
            f"| {s['token_id']} | {s['size']} | {s['payout']} | {s['proceeds']} | {s['cost']} "
            f"| {s['fees']} | {s['realised']} |"
            for s in body["settled"]
        ]
    lines += [f"- would redeem {s['size']} x {s['token_id']}" for s in body["unsettled"]]
    lines += [f"- {line}" for line in body["skipped"] + body["notes"]]
    if report.refused:
        lines.append(f"- REFUSED: {report.refused}")
    return "\n".join(lines)


@flow(
    name="settle",
    flow_run_name=starting_name("settle"),
    timeout_seconds=600,
    on_failure=[name_failed_run],
    on_crashed=[name_failed_run],
)
async def settle(live: bool = False) -> dict[str, Any]:
    """Settle the paper account's resolved positions (live: report and refuse)."""
    ctx = open_run("settle", live=live)
    try:
        report = await settle_account(
            ctx.engine,
            ctx.settings,
            ctx.mode,
            ctx.now(),
            run_id=ctx.run_id,
            flow_run_id=ctx.flow_run_id,
        )
        await acreate_markdown_artifact(_markdown(report), key="settle", description="Settle")
        if report.refused:
            raise SettlementRefused(report.refused)
    except Exception as error:
        fail_run(ctx, error)
        raise
    with session_scope(ctx.engine) as session:
        finish_run(session, ctx.run_id, status="completed", finished_at=ctx.now())
    await rename_flow_run(
        f"{report.mode} settle: {len(report.settled)} settled, realised {report.realised} pUSD"
    )
    get_run_logger().info(
        "settle %s: %d resolved, %d settled, proceeds %s, realised %s",
        report.mode,
        len(report.resolved),
        len(report.settled),
        report.proceeds,
        report.realised,
    )
    return {"run_id": ctx.run_id, **report_json(report)}
