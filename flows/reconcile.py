"""reconcile: the DB against the venue. Unknown orders resolved by lookup, missed fills adopted.

Runs every 5 minutes (prefect.yaml) and on demand (`pm-agent reconcile`). It never places an
order: it only reads the venue and corrects pm-agent's records. A live run also compares the
ledger's positions with the wallet's on-chain ERC-1155 balances and reports the wallet's pUSD on
chain (``chain``: each difference is also a discrepancy). Its reads retry in one place, the
adapter (``RetryPolicy``, ``PM_HTTP_MAX_RETRIES``), never on a ``ConfigurationError``; the task
itself is not retried on top of that. A run whose arming is wrong refuses before it starts
(``flows.runtime.open_run``); a reconcile that fails closes its run row as failed, with the
error, before the error goes on.
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

from typing import Any  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import acreate_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from flows.runtime import (  # noqa: E402
    name_failed_run,
    open_run,
    rename_flow_run,
    starting_name,
)
from pm_lib.execution.factory import run_credentials  # noqa: E402
from pm_lib.execution.reconcile import ReconcileReport  # noqa: E402
from pm_lib.execution.reconcile import reconcile as reconcile_account  # noqa: E402
from pm_lib.pipeline.context import RunContext  # noqa: E402
from pm_lib.pipeline.records import fail_run  # noqa: E402
from pm_lib.reporting.tables import plain_decimal  # noqa: E402
from pm_lib.store.engine import session_scope  # noqa: E402
from pm_lib.store.runs import finish_run  # noqa: E402

__all__ = ["reconcile"]


@task(
    name="reconcile-account",
    retries=0,  # reads retry at the adapter (one policy); no second layer here
    timeout_seconds=300,
    cache_policy=NO_CACHE,
)
def reconcile_task(ctx: RunContext) -> ReconcileReport:
    """Compare the stored orders, fills and balance with the venue's, and correct the DB."""
    executor = ctx.executor()
    try:
        return reconcile_account(executor, ctx.engine, settings=ctx.settings)
    finally:
        executor.close()


@task(name="reconcile-chain", retries=0, timeout_seconds=120, cache_policy=NO_CACHE)
def chain_task(ctx: RunContext) -> dict[str, Any]:
    """Live: the wallet's pUSD on chain and the ledger's positions against its balances."""
    from decimal import Decimal

    from pm_lib.settlement.live import chain_reconcile

    credentials = run_credentials(ctx.settings, live_armed=ctx.live_armed)
    if credentials is None:
        return {}
    try:
        pusd, differences = chain_reconcile(ctx.engine, ctx.settings, credentials)
    except Exception as error:  # the venue's reconcile stands; the chain read is reported
        return {"error": f"{type(error).__name__}: {error}"[:300]}
    micro = Decimal(1_000_000)
    return {
        "pusd": plain_decimal(Decimal(pusd) / micro),
        "differences": [
            {
                "token_id": d.token_id,
                "condition_id": d.condition_id,
                "ledger": plain_decimal(Decimal(d.ledger) / micro),
                "chain": plain_decimal(Decimal(d.chain) / micro),
            }
            for d in differences
        ],
    }


def _chain_discrepancies(chain: dict[str, Any]) -> list[str]:
    if "error" in chain:
        return [f"chain unreadable: {chain['error']}"]
    return [
        f"chain: token {d['token_id']} ledger {d['ledger']}, wallet {d['chain']}"
        for d in chain.get("differences", [])
    ]


def _markdown(report: ReconcileReport, chain: dict[str, Any] | None = None) -> str:
    lines = [
        f"# pm-agent reconcile ({report.mode})",
        "",
        f"- fills seen: {report.fills_seen}, adopted (missed by us): {len(report.adopted_fills)}",
        f"- order status changes: {len(report.changes)}",
        f"- still open: {len(report.still_open)}",
        f"- venue orders without an intent: {len(report.venue_orders_without_intent)}",
        f"- balance: {plain_decimal(report.balance, 2)} pUSD",
        f"- discrepancies: {len(report.discrepancies)}",
    ]
    lines += [f"  - {d}" for d in [*report.discrepancies, *_chain_discrepancies(chain or {})]]
    if chain and "pusd" in chain:
        lines.append(f"- wallet pUSD on chain: {chain['pusd']}")
    lines += [f"- leg risk {r}" for r in report.leg_risks]
    lines += [f"- {c.intent_key}: {c.before} -> {c.after} {c.note}" for c in report.changes]
    return "\n".join(lines)


@flow(
    name="reconcile",
    flow_run_name=starting_name("reconcile"),
    timeout_seconds=600,
    on_failure=[name_failed_run],
    on_crashed=[name_failed_run],
)
async def reconcile(live: bool = False) -> dict[str, Any]:
    """Reconcile the paper account, or the live one when ``live`` arms it (PM_MODE=live)."""
    ctx = open_run("reconcile", live=live)
    try:
        report = reconcile_task(ctx)
        chain = chain_task(ctx) if ctx.mode == "live" else {}
    except Exception as error:
        fail_run(ctx, error)
        raise
    with session_scope(ctx.engine) as session:
        finish_run(session, ctx.run_id, status="completed", finished_at=ctx.now())
    await acreate_markdown_artifact(
        _markdown(report, chain), key="reconcile", description="Reconcile"
    )
    discrepancies = list(report.discrepancies) + _chain_discrepancies(chain)
    await rename_flow_run(
        f"{report.mode} reconcile: {len(report.adopted_fills)} fills adopted, "
        f"{len(report.changes)} changes, {len(discrepancies)} discrepancies"
    )
    get_run_logger().info(
        "reconcile %s: %d fills seen, %d adopted, %d changes, %d discrepancies",
        report.mode,
        report.fills_seen,
        len(report.adopted_fills),
        len(report.changes),
        len(discrepancies),
    )
    return {
        "run_id": ctx.run_id,
        "mode": report.mode,
        "fills_seen": report.fills_seen,
        "adopted_fills": list(report.adopted_fills),
        "changes": [c.model_dump(mode="json") for c in report.changes],
        "still_open": list(report.still_open),
        "balance": plain_decimal(report.balance),
        "discrepancies": discrepancies,
        "leg_risks": list(report.leg_risks),
        **({"chain": chain} if chain else {}),
    }
