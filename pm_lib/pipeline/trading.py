"""The execute stage: approved opportunities become orders through the run's one executor.

The executor is chosen once by the factory (paper unless live is configured, armed and keyed);
this stage never branches on the mode. Multi-leg opportunities go through the multi-leg
executor (FOK legs, leg risk recorded and the unwind policy applied when one leg fails).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pm_lib.execution.factory import make_executor
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.models import Catalogue, OrderBook, OrderRequest, OrderResult
from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.decisions import Signals
from pm_lib.pipeline.report import request_index

__all__ = ["Execution", "execute_approved"]


@dataclass(frozen=True)
class Execution:
    """What the execute stage placed: one result per leg, and the requests by intent key."""

    results: tuple[OrderResult, ...] = ()
    requests: dict[str, dict[str, str]] = field(default_factory=dict)


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
    executor = make_executor(
        ctx.settings,
        live_armed=ctx.live_armed,
        engine=ctx.engine,
        run_id=ctx.run_id,
        books=books,
    )
    results: list[OrderResult] = []
    requests: list[OrderRequest] = []
    try:
        for opportunity in approved:
            outcome = execute_opportunity(
                executor,
                opportunity,
                markets,
                books,
                settings=ctx.settings,
                engine=ctx.engine,
                run_id=ctx.run_id,
            )
            results.extend(outcome.results)
            requests.extend(outcome.requests)
    finally:
        executor.close()
    return Execution(results=tuple(results), requests=request_index(requests))
