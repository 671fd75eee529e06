"""Budget reservations (``pm_lib.store.reservations``) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from pm_lib.store.engine import make_engine, session_scope
from pm_lib.store.reservations import (
    RESERVATION_TTL,
    BudgetReservationRow,
    lock_budget,
    outstanding,
    release,
    reserve,
)

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
LIMIT = Decimal(100)


def claim(session: object, run_id: str, exposure: str, now: datetime = T0) -> BudgetReservationRow:
    return reserve(
        session,  # type: ignore[arg-type]
        mode="live",
        run_id=run_id,
        opportunity_id=f"opp-{run_id}",
        exposure=Decimal(exposure),
        fees=Decimal("0.25"),
        open_orders=1,
        by_market={"c1": Decimal(exposure)},
        by_group={"g1": Decimal(exposure)},
        now=now,
    )


def test_a_claim_is_outstanding_until_released_with_its_outcome(engine: Engine) -> None:
    with session_scope(engine) as session:
        lock_budget(session, "live", T0)
        row = claim(session, "r1", "53.7")
    assert (row.exposure, row.by_market, row.expires_at) == (
        Decimal("53.7"),
        {"c1": Decimal("53.7")},
        T0 + RESERVATION_TTL,
    )
    with session_scope(engine, read_only=True) as session:
        assert [r.run_id for r in outstanding(session, "live", T0)] == ["r1"]
        assert outstanding(session, "paper", T0) == []
    with session_scope(engine) as session:
        ended = release(
            session, mode="live", run_id="r1", opportunity_id="opp-r1", outcome="MATCHED x2", at=T0
        )
        again = release(
            session, mode="live", run_id="r1", opportunity_id="opp-r1", outcome="x", at=T0
        )
    assert (ended, again) == (1, 0)
    with session_scope(engine, read_only=True) as session:
        assert outstanding(session, "live", T0) == []


def test_a_crashed_runs_claim_stops_counting_when_it_expires(engine: Engine) -> None:
    with session_scope(engine) as session:
        lock_budget(session, "live", T0)
        claim(session, "r1", "75")
    with session_scope(engine, read_only=True) as session:
        assert len(outstanding(session, "live", T0 + RESERVATION_TTL - timedelta(seconds=1))) == 1
        assert outstanding(session, "live", T0 + RESERVATION_TTL) == []


def test_concurrent_claims_on_separate_engines_never_exceed_the_limit(engine: Engine) -> None:
    """Eight workers (threads, each with its own engine and connection) claim 30 pUSD against
    a 100 limit at once; each reads the outstanding claims inside the lock, as the execute
    stage does. Exactly three fit."""
    url = engine.url.render_as_string(hide_password=False)
    barrier = threading.Barrier(8)
    granted: list[str] = []
    errors: list[BaseException] = []

    def worker(run_id: str) -> None:
        own = make_engine(url)
        try:
            barrier.wait(timeout=30)
            with session_scope(own) as session:
                lock_budget(session, "live", T0)
                held = sum((r.exposure for r in outstanding(session, "live", T0)), Decimal(0))
                time.sleep(0.05)  # widen the window between the read and the insert
                if held + 30 <= LIMIT:
                    claim(session, run_id, "30")
                    granted.append(run_id)
        except BaseException as e:  # reported below
            errors.append(e)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(f"r{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with session_scope(engine, read_only=True) as session:
        rows = outstanding(session, "live", T0)
    assert len(granted) == 3 and sorted(r.run_id for r in rows) == sorted(granted)
    assert sum((r.exposure for r in rows), Decimal(0)) <= LIMIT
