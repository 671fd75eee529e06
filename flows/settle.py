"""settle: collect resolved positions and merge complete sets (``pm_lib.settlement``).

Paper (deployment ``settle-paper``, every 15 minutes): it reads how the held markets resolved
(Gamma), journals one settlement per held token of a resolved market and applies it once (a
synthetic SELL fill at the payout in the ledger). Live (``settle-live``, commented out in
prefect.yaml until armed; ``live: true`` with ``PM_MODE=live`` and the wallet's credentials,
exactly as the trading deployments): complete YES+NO sets are merged and resolved positions
redeemed on chain through the SDK, journalled like orders, then the wallet's on-chain balances
are reconciled with the ledger; a failed action or a difference fails the run. It never places
an order. A markdown artifact names what was merged, redeemed and realised.
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
from pm_lib.execution.factory import run_credentials  # noqa: E402
from pm_lib.pipeline.records import fail_run  # noqa: E402
from pm_lib.reporting.labels import MarketLabels, read_labels  # noqa: E402
from pm_lib.settlement import SettleReport, report_json  # noqa: E402
from pm_lib.settlement import settle as settle_account  # noqa: E402
from pm_lib.store.engine import session_scope  # noqa: E402
from pm_lib.store.runs import finish_run  # noqa: E402

__all__ = ["settle"]


class SettlementIncomplete(PmAgentError):
    """A live settle left an action failed, or the wallet differs from the ledger."""


def _markdown(report: SettleReport, labels: MarketLabels) -> str:
    body = report_json(report)
    lines = [
        f"# pm-agent settle ({report.mode})",
        "",
        f"- markets newly resolved: {len(body['resolved'])}",
        f"- settled: {len(body['settled']) + len(body['applied'])}, proceeds "
        f"{body['proceeds']} pUSD, realised {body['realised']} pUSD",
    ]
    for r in body["resolved"]:
        name = labels.market(r["condition_id"]).text
        lines.append(f"- resolved {name}: {r['winning_outcome'] or 'no winner'}")
    if body["settled"]:
        lines += ["", "| market | shares | payout | proceeds | cost | fees | realised |"]
        lines += ["|---|---:|---:|---:|---:|---:|---:|"]
        lines += [
            f"| {labels.token(s['token_id'], s['condition_id']).text} | {s['size']} "
            f"| {s['payout']} | {s['proceeds']} | {s['cost']} | {s['fees']} | {s['realised']} |"
            for s in body["settled"]
        ]
    chain = body["applied"] + body["open"] + body["failed"]
    if chain:
        lines += ["", "| action | market | status | proceeds | cost | fees | realised | tx |"]
        lines += ["|---|---|---|---:|---:|---:|---:|---|"]
        lines += [
            f"| {a['kind']} | {labels.market(a['condition_id']).text} | {a['status']} "
            f"| {a['proceeds']} | {a['cost']} | {a['fees']} | {a['realised']} "
            f"| {a['tx_hash'] or a['relayer_tx_id'] or ''} |"
            for a in chain
        ]
    reconcile = body["reconcile"]
    if reconcile["pusd"] is not None:
        lines.append(f"- wallet pUSD on chain: {reconcile['pusd']}")
    lines += [
        f"- DIFFERENCE {labels.token(d['token_id'], d['condition_id']).text}: ledger "
        f"{d['ledger']}, chain {d['chain']}"
        for d in reconcile["differences"]
    ]
    lines += [f"- {line}" for line in body["skipped"] + body["notes"]]
    return "\n".join(lines)


@flow(
    name="settle",
    flow_run_name=starting_name("settle"),
    timeout_seconds=600,
    on_failure=[name_failed_run],
    on_crashed=[name_failed_run],
)
async def settle(live: bool = False) -> dict[str, Any]:
    """Settle the account's resolved positions and merge complete sets (live: on chain)."""
    ctx = open_run("settle", live=live)
    try:
        report = await settle_account(
            ctx.engine,
            ctx.settings,
            ctx.mode,
            ctx.now(),
            credentials=run_credentials(ctx.settings, live_armed=ctx.live_armed),
            run_id=ctx.run_id,
            flow_run_id=ctx.flow_run_id,
        )
        conditions = {r.condition_id for r in report.resolved}
        conditions |= {a.condition_id for a in report.applied + report.open + report.failed}
        conditions |= {s.condition_id for s in report.settled}
        with session_scope(ctx.engine) as session:
            labels = read_labels(session, condition_ids=conditions)
        await acreate_markdown_artifact(
            _markdown(report, labels), key="settle", description="Settle"
        )
        if report.failed or report.differences:
            raise SettlementIncomplete(
                f"{len(report.failed)} action(s) failed, {len(report.differences)} "
                "difference(s) between the wallet and the ledger"
            )
    except Exception as error:
        fail_run(ctx, error)
        raise
    with session_scope(ctx.engine) as session:
        finish_run(session, ctx.run_id, status="completed", finished_at=ctx.now())
    await rename_flow_run(
        f"{report.mode} settle: {len(report.settled) + len(report.applied)} settled, "
        f"realised {report.realised} pUSD"
    )
    get_run_logger().info(
        "settle %s: %d resolved, %d settled, proceeds %s, realised %s",
        report.mode,
        len(report.resolved),
        len(report.settled) + len(report.applied),
        report.proceeds,
        report.realised,
    )
    return {"run_id": ctx.run_id, **report_json(report)}
