"""Market leases (``pm_lib.store.leases``): who may trade a market, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from pm_lib.store import make_engine, session_scope, upgrade
from pm_lib.store.leases import (
    LEASE_TTL,
    MarketLeased,
    acquire_markets,
    market_leases,
    release_markets,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
A, B = "0x" + "a1" * 32, "0x" + "b2" * 32


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def lease(
    engine: Engine, run_id: str, markets: list[str], *, snapshot: datetime, now: datetime
) -> None:
    with session_scope(engine) as session:
        acquire_markets(
            session,
            mode="paper",
            markets=markets,
            run_id=run_id,
            opportunity_id=f"opp-{run_id}",
            snapshot_at=snapshot,
            now=now,
        )


def release(engine: Engine, run_id: str, markets: list[str], at: datetime) -> None:
    with session_scope(engine) as session:
        release_markets(session, mode="paper", markets=markets, run_id=run_id, at=at)


def holders(engine: Engine) -> dict[str, str]:
    with session_scope(engine, read_only=True) as session:
        return {row.market: row.run_id for row in market_leases(session, "paper")}


def test_a_free_market_is_leased_to_the_run(engine: Engine) -> None:
    lease(engine, "r1", [A, B], snapshot=T0, now=T0)
    assert holders(engine) == {A: "r1", B: "r1"}


def test_a_market_another_run_holds_is_refused_naming_the_holder(engine: Engine) -> None:
    lease(engine, "r1", [A], snapshot=T0, now=T0)
    with pytest.raises(MarketLeased, match="leased to run r1"):
        lease(engine, "r2", [A], snapshot=T0, now=T0 + timedelta(seconds=1))


def test_a_release_after_the_runs_snapshot_is_refused(engine: Engine) -> None:
    lease(engine, "r1", [A], snapshot=T0, now=T0 + timedelta(seconds=1))
    release(engine, "r1", [A], at=T0 + timedelta(seconds=20))
    with pytest.raises(MarketLeased, match="after this run's snapshot"):
        lease(
            engine, "r2", [A], snapshot=T0 + timedelta(seconds=10), now=T0 + timedelta(seconds=30)
        )


def test_a_release_the_runs_snapshot_saw_lets_it_trade(engine: Engine) -> None:
    lease(engine, "r1", [A], snapshot=T0, now=T0)
    release(engine, "r1", [A], at=T0 + timedelta(seconds=5))
    lease(engine, "r2", [A], snapshot=T0 + timedelta(seconds=60), now=T0 + timedelta(seconds=70))
    assert holders(engine) == {A: "r2"}


def test_a_release_within_the_clock_skew_allowance_is_not_trusted(engine: Engine) -> None:
    lease(engine, "r1", [A], snapshot=T0, now=T0)
    release(engine, "r1", [A], at=T0 + timedelta(seconds=5))
    with pytest.raises(MarketLeased):
        lease(engine, "r2", [A], snapshot=T0 + timedelta(seconds=7), now=T0 + timedelta(seconds=60))


def test_an_unreleased_lease_expires_after_the_ttl(engine: Engine) -> None:
    lease(engine, "r1", [A], snapshot=T0, now=T0)  # the worker died before releasing
    later = T0 + LEASE_TTL
    lease(engine, "r2", [A], snapshot=later, now=later)
    assert holders(engine) == {A: "r2"}


def test_the_holder_may_lease_its_market_again(engine: Engine) -> None:
    lease(engine, "r1", [A], snapshot=T0, now=T0)
    release(engine, "r1", [A], at=T0 + timedelta(seconds=1))
    lease(engine, "r1", [A, B], snapshot=T0, now=T0 + timedelta(seconds=2))
    assert holders(engine) == {A: "r1", B: "r1"}


def test_an_opportunity_gets_all_its_markets_or_none(engine: Engine) -> None:
    lease(engine, "r1", [B], snapshot=T0, now=T0)
    with pytest.raises(MarketLeased):
        lease(engine, "r2", [A, B], snapshot=T0, now=T0 + timedelta(seconds=1))
    assert holders(engine) == {B: "r1"}


def test_release_touches_only_the_runs_own_leases(engine: Engine) -> None:
    lease(engine, "r1", [A], snapshot=T0, now=T0)
    with session_scope(engine) as session:
        released = release_markets(session, mode="paper", markets=[A], run_id="r2", at=T0)
    assert released == 0
    with pytest.raises(MarketLeased):
        lease(engine, "r3", [A], snapshot=T0 + timedelta(minutes=5), now=T0 + timedelta(minutes=5))
