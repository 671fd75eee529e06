"""A reservation ends only once the committed state holds what its orders became (15.4).

Filled orders count through their stored fills. When the venue took a basket but its trades
could not be read (``/data/trades`` failing right after the post), the fills are not stored
yet: releasing then would let another run spend that budget a second time. The reservation
stays until reconcile has stored them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import Catalogue, OrderStatus
from pm_lib.pipeline.budget import claim, committed_portfolio, release_claim
from pm_lib.pipeline.context import RunContext
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import session_scope
from pm_lib.store.account import record_balance
from pm_lib.store.reservations import outstanding
from tests.execution.builders import basket
from tests.execution.conftest import connected
from tests.execution.emulator import MARKETS, NEG_RISK, control

CATALOGUE = Catalogue(markets=tuple(MARKETS.values()), fetched_at=datetime.now(UTC))

ASKS = ("0.30", "0.31", "0.32")
LEGS = tuple((yes, cond, "10", ask) for (cond, yes, _), ask in zip(NEG_RISK, ASKS, strict=True))


def open_claims(engine: Engine) -> list[str]:
    with session_scope(engine, read_only=True) as session:
        return [r.opportunity_id for r in outstanding(session, "live", datetime.now(UTC))]


def test_a_fill_not_stored_yet_keeps_the_budget_reserved_until_reconcile(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    ctx = RunContext(
        settings=live_settings, engine=engine, run_id="r1", flow_name="test", live_armed=True
    )
    opportunity = basket("opp-1", *LEGS)
    executor = connected(live_settings, engine, credentials)
    with session_scope(engine) as session:  # as the run's portfolio stage does: cash rule
        record_balance(session, "live", executor.balance(), ctx.now())
    assert claim(ctx, opportunity, CATALOGUE, {}) is None
    assert open_claims(engine) == ["opp-1"]
    control(running, "POST", "/faults", {"kind": "error", "path": "/data/trades", "status": 503})
    outcome = execute_opportunity(
        executor, opportunity, MARKETS, {}, settings=live_settings, engine=engine, run_id="r1"
    )
    assert [r.status for r in outcome.results] == [OrderStatus.MATCHED] * 3
    with session_scope(engine) as session:
        assert not release_claim(session, ctx, opportunity, outcome.results)
    assert open_claims(engine) == ["opp-1"]

    control(running, "DELETE", "/faults")
    reconcile(executor, engine)
    executor.close()
    with session_scope(engine) as session:
        assert release_claim(session, ctx, opportunity, outcome.results)
    assert open_claims(engine) == []


def test_live_cash_under_the_lock_is_net_of_fills_stored_after_the_balance_was_read(
    live_settings: Settings, engine: Engine, credentials: Credentials
) -> None:
    """Another run's fills land after this run read the venue balance: the claim's cash rule
    must not see that balance as still free."""
    ctx = RunContext(
        settings=live_settings, engine=engine, run_id="r2", flow_name="test", live_armed=True
    )
    executor = connected(live_settings, engine, credentials, run_id="r1")
    balance = executor.balance()
    with session_scope(engine) as session:  # as the scan's portfolio stage stores it
        record_balance(session, "live", balance, ctx.now())
    outcome = execute_opportunity(
        executor,
        basket("opp-1", *LEGS),
        MARKETS,
        {},
        settings=live_settings,
        engine=engine,
        run_id="r1",
    )
    executor.close()
    spent = sum((r.filled_size * (r.avg_price or 0) + r.fee for r in outcome.results), Decimal(0))
    assert spent > 0
    with session_scope(engine, read_only=True) as session:
        assert committed_portfolio(session, ctx, {}, CATALOGUE).cash == balance - spent
