"""``--sabotage``: prove that every invariant can fail.

After one clean traded cycle (a planted basket bought whole, reconciled, 0 violations), each
step breaks one thing on purpose, the DB or what the check is told, and the invariant it
targets must report it (a kind that was not reported before the step). The steps run in an
order where each adds its kind; those that change only the check's inputs come first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path

from _chaos_invariants import (
    Violation,
    check_cycle,
    check_halt,
    check_refusal,
    check_secrets,
    intents,
)
from _chaos_session import Session
from sqlalchemy import select, text

from pm_lib.store.tables import DailyLossBreakerRecord, RunRecord

__all__ = ["SABOTAGE_KINDS", "sabotage_steps"]

SECRET = "chaos-sabotage-secret\nchaos-sabotage-tail"
SABOTAGE_KINDS = (
    "cash",
    "risk_limit",
    "halt",
    "whole_set",
    "secret",
    "credentials",
    "breaker",
    "open_orders",
    "leg_risk",
    "fill_mismatch",
    "duplicate_order",
    "position_mismatch",
)
"""The kinds ``--sabotage`` must see trip (one step may trip several)."""


def _check(session: Session, **changes: object) -> set[str]:
    state = session.running.venue.state
    event_sets: dict[str, frozenset[str]] = {
        e.event_id: frozenset(e.condition_ids) for e in state.events.values() if e.neg_risk
    }
    extra = changes.pop("extra_leg", False)
    if extra:  # every event holds one more outcome than the venue lists
        event_sets = {k: v | {"0xsabotage"} for k, v in event_sets.items()}
    found = check_cycle(
        session.engine,
        changes.pop("settings", session.settings),  # type: ignore[arg-type]
        session.control,
        session.address,
        changes.pop("start_pusd", session.start_pusd),  # type: ignore[arg-type]
        new_keys={r.intent_key for r in intents(session.engine)},
        breaker_tripped=False,
        clean=True,
        event_sets=event_sets,
    )
    return {v.kind for v in found}


def _sql(session: Session, *statements: str) -> None:
    with session.engine.begin() as db:
        for statement in statements:
            db.execute(text(statement))


def _then(first: Callable[[], object], check: Callable[[], set[str]]) -> set[str]:
    """Break something (``first``), then check."""
    first()
    return check()


def sabotage_steps(session: Session, workdir: Path) -> tuple[list[str], list[str]]:
    """Run every step; (kinds detected, problems: steps whose kind did not trip)."""
    rows = intents(session.engine)
    traded = [r for r in rows if r.venue_order_id and r.filled_size]
    if len(traded) < 2:
        return [], [f"nothing traded to sabotage: {[r.status for r in rows]}"]
    orders = session.running.venue.exchange.orders
    created = {
        r.venue_order_id: orders[r.venue_order_id].created_at
        for r in traded
        if r.venue_order_id is not None
    }
    newest, first = traded[-1], traded[0]
    leak = workdir / "sabotage-artifact.json"
    leak.write_text(json.dumps({"error": f"passphrase={SECRET}"}))
    steps: list[tuple[str, Callable[[], set[str]]]] = [
        ("cash", lambda: _check(session, start_pusd=0)),
        (
            "risk_limit",
            lambda: _check(
                session, settings=session.settings.model_copy(update={"max_total_exposure": 1})
            ),
        ),
        ("halt", lambda: _kinds(check_halt(rows, created, min(created.values()) - 1))),
        ("whole_set", lambda: _check(session, extra_leg=True)),
        ("secret", lambda: _kinds(check_secrets([SECRET], [leak], session.engine))),
        ("credentials", lambda: _kinds(check_refusal("POLYMARKET_PASSPHRASE", {"orders": 1}))),
        ("breaker", lambda: _then(lambda: _trip_breaker(session), lambda: _check(session))),
        (
            "open_orders",
            lambda: _then(
                lambda: _sql(
                    session,
                    f"UPDATE order_intent SET status = 'LIVE' WHERE id = {first.id}",
                ),
                lambda: _check(
                    session, settings=session.settings.model_copy(update={"max_open_orders": 0})
                ),
            ),
        ),
        (
            "leg_risk",
            lambda: _then(
                lambda: _sql(
                    session,
                    f"UPDATE order_intent SET status = 'MATCHED' WHERE id = {first.id}",
                    f"UPDATE order_intent SET filled_size = 0, status = 'CANCELED' "
                    f"WHERE id = {newest.id}",
                ),
                lambda: _check(session),
            ),
        ),
        ("fill_mismatch", lambda: _check(session)),
        (
            "duplicate_order",
            lambda: (session.break_records(), _check(session))[1],
        ),
        ("position_mismatch", lambda: _check(session)),
    ]
    detected: list[str] = []
    problems: list[str] = []
    seen = _check(session)
    if seen:
        return [], [f"not clean before sabotage: {sorted(seen)}"]
    for kind, step in steps:
        found = step()
        if kind in found:
            detected.append(kind)
        else:
            problems.append(f"{kind} not detected (found {sorted(found)})")
        seen |= found
    return detected, problems


def _kinds(found: list[Violation]) -> set[str]:
    return {v.kind for v in found}


def _trip_breaker(session: Session) -> None:
    """The daily-loss breaker, as if it had tripped a second before the first run started."""
    runs = RunRecord.__table__  # type: ignore[attr-defined]
    breaker = DailyLossBreakerRecord.__table__  # type: ignore[attr-defined]
    with session.engine.begin() as db:
        started = db.execute(select(runs.c.started_at).order_by(runs.c.started_at)).scalar()
        assert started is not None
        at = started if started.tzinfo else started.replace(tzinfo=UTC)
        db.execute(
            breaker.insert().values(
                mode="live",
                day=at.date().isoformat(),
                tripped_at=at - timedelta(seconds=1),
                loss=Decimal(5),
                limit=Decimal(1),
            )
        )
