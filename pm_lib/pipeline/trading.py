"""The execute stage: approved opportunities become orders through the run's one executor.

The executor is chosen once by the factory (paper unless live is configured, armed and keyed);
this stage never branches on the mode. Multi-leg opportunities go through the multi-leg
executor (FOK legs, leg risk recorded and the unwind policy applied when one leg fails).

Before an opportunity is placed it is claimed (``pm_lib.pipeline.budget.claim``): its markets
are leased to this run (``pm_lib.store.leases``), so a run that overlaps another (two workers, a
manual scan next to a scheduled one) skips what the other is trading or traded after this run
read its portfolio, instead of trading it twice; and its budget is reserved against the wallet's
committed state and every other run's reservations, so overlapping runs trading different
markets cannot breach a limit together. Lease and reservation are released once the
opportunity's orders are stored; after a crash they expire.

The kill switch is checked before every opportunity here (with the Prefect UI switch, when the
run has one) and before every order by the executor (``pm_lib.store.control.halted``): a halt
committed mid-scan stops every later order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from pm_lib.execution.multileg import execute_opportunity
from pm_lib.models import Catalogue, OrderBook, OrderRequest, OrderResult
from pm_lib.pipeline.budget import claim, release_claim
from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.decisions import Signals
from pm_lib.pipeline.report import request_index
from pm_lib.store.control import halted
from pm_lib.store.engine import session_scope
from pm_lib.store.leases import release_markets
from pm_lib.store.orders import intent_by_key

__all__ = ["Execution", "execute_approved"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Execution:
    """What the execute stage placed: one result per leg, and the requests by intent key.

    ``skipped`` holds (opportunity id, reason) for approved opportunities not placed: another
    run holds a market, the wallet's budget no longer fits them, trading was halted, or a held
    leg risk keeps its market or neg-risk group from buying.
    """

    results: tuple[OrderResult, ...] = ()
    requests: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()


def execute_approved(
    ctx: RunContext,
    catalogue: Catalogue,
    books: Mapping[str, OrderBook],
    signals: Signals,
) -> Execution:
    """Place every approved opportunity once (intent keys make a re-run a no-op)."""
    approved = signals.approved
    if not approved:
        return Execution()
    markets = catalogue.market_by_condition()
    executor = ctx.executor(books)
    results: list[OrderResult] = []
    requests: list[OrderRequest] = []
    skipped: list[tuple[str, str]] = []
    try:
        for opportunity in approved:
            reason = halted(ctx.engine, ctx.halt_switch)
            refusal = (
                f"trading halted: {reason}"
                if reason is not None
                else claim(ctx, opportunity, catalogue, books)
            )
            if refusal is not None:
                skipped.append((opportunity.id, refusal))
                continue
            outcome = execute_opportunity(
                executor,
                opportunity,
                markets,
                books,
                settings=ctx.settings,
                engine=ctx.engine,
                run_id=ctx.run_id,
            )
            with session_scope(ctx.engine) as session:
                release_markets(
                    session,
                    mode=ctx.mode,
                    markets=(leg.condition_id for leg in opportunity.legs),
                    run_id=ctx.run_id,
                    at=ctx.now(),
                )
                release_claim(session, ctx, opportunity, outcome.results)
            if outcome.refused is not None:
                skipped.append((opportunity.id, outcome.refused))
                continue
            results.extend(outcome.results)
            requests.extend(outcome.requests)
    finally:
        executor.close()
    return Execution(
        results=tuple(results),
        requests=_with_stored_intents(ctx, request_index(requests), results),
        skipped=tuple(skipped),
    )


def _with_stored_intents(
    ctx: RunContext, index: dict[str, dict[str, str]], results: list[OrderResult]
) -> dict[str, dict[str, str]]:
    """Add what the executor placed on its own (unwind orders) from their stored intent rows."""
    missing = [r.intent_key for r in results if r.intent_key not in index]
    if not missing:
        return index
    with session_scope(ctx.engine, read_only=True) as session:
        rows = [row for key in missing if (row := intent_by_key(session, key)) is not None]
    return {**index, **request_index(rows)}
