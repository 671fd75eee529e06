"""Fills are stored once per (trade, order) and their settlement only moves forward."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from pm_lib.models import Fill, TradeStatus
from pm_lib.store.engine import session_scope
from pm_lib.store.trades import (
    fills,
    fills_for_day,
    fills_for_intent,
    fills_kept,
    trade_status_advances,
    upsert_fill,
)
from tests.store.samples import NOW, fill


def _upsert(engine: Engine, stored: Fill, *, intent_key: str | None = None) -> bool:
    with session_scope(engine) as session:
        return upsert_fill(session, stored, mode="paper", intent_key=intent_key, at=NOW)


def _stored(engine: Engine) -> list[Fill]:
    with session_scope(engine) as session:
        return fills(session, "paper")


def test_new_fill_is_stored_exactly(engine: Engine) -> None:
    assert _upsert(engine, fill()) is True
    assert _stored(engine) == [fill()]


def test_same_fill_twice_changes_nothing(engine: Engine) -> None:
    _upsert(engine, fill())
    assert _upsert(engine, fill()) is False
    assert len(_stored(engine)) == 1


def test_same_trade_on_another_order_is_another_fill(engine: Engine) -> None:
    _upsert(engine, fill(order_id="0xa"))
    _upsert(engine, fill(order_id="0xb"))
    assert len(_stored(engine)) == 2


def test_settlement_moves_forward(engine: Engine) -> None:
    _upsert(engine, fill(status=TradeStatus.MATCHED))
    assert _upsert(engine, fill(status=TradeStatus.MINED)) is True
    assert _stored(engine)[0].status is TradeStatus.MINED


def test_stale_report_does_not_move_settlement_back(engine: Engine) -> None:
    _upsert(engine, fill(status=TradeStatus.CONFIRMED))
    assert _upsert(engine, fill(status=TradeStatus.MINED)) is False
    assert _stored(engine)[0].status is TradeStatus.CONFIRMED


def test_confirmed_fill_can_still_fail(engine: Engine) -> None:
    _upsert(engine, fill(status=TradeStatus.CONFIRMED))
    assert _upsert(engine, fill(status=TradeStatus.FAILED)) is True
    assert _stored(engine)[0].status is TradeStatus.FAILED


def test_adopted_fill_gets_its_intent_later(engine: Engine) -> None:
    _upsert(engine, fill())
    assert _upsert(engine, fill(), intent_key="run-1:opp-1:0") is True
    with session_scope(engine) as session:
        assert fills_for_intent(session, "run-1:opp-1:0") == [fill()]


@pytest.mark.parametrize(
    ("current", "reported", "advances"),
    [
        (TradeStatus.MATCHED, TradeStatus.MINED, True),
        (TradeStatus.MINED, TradeStatus.MATCHED, False),
        (TradeStatus.MINED, TradeStatus.RETRYING, True),
        (TradeStatus.RETRYING, TradeStatus.MINED, True),
        (TradeStatus.RETRYING, TradeStatus.CONFIRMED, True),
        (TradeStatus.CONFIRMED, TradeStatus.RETRYING, False),
        (TradeStatus.MATCHED, TradeStatus.FAILED, True),
        (TradeStatus.FAILED, TradeStatus.CONFIRMED, False),
        (TradeStatus.MINED, TradeStatus.MINED, False),
    ],
)
def test_trade_status_advances(current: TradeStatus, reported: TradeStatus, advances: bool) -> None:
    assert trade_status_advances(current, reported) is advances


def test_fills_since_leave_out_older_ones(engine: Engine) -> None:
    _upsert(engine, fill("old", matched_at=NOW - timedelta(hours=1)))
    _upsert(engine, fill("new", matched_at=NOW))
    with session_scope(engine) as session:
        assert [f.trade_id for f in fills(session, "paper", since=NOW)] == ["new"]


def test_fills_of_the_other_mode_are_left_out(engine: Engine) -> None:
    with session_scope(engine) as session:
        upsert_fill(session, fill(), mode="live")
    assert _stored(engine) == []


def test_fills_for_day_cover_exactly_one_utc_day(engine: Engine) -> None:
    midnight = NOW.replace(hour=0)
    _upsert(engine, fill("before", matched_at=midnight - timedelta(microseconds=1)))
    _upsert(engine, fill("first", matched_at=midnight))
    _upsert(engine, fill("last", matched_at=midnight + timedelta(days=1, microseconds=-1)))
    _upsert(engine, fill("after", matched_at=midnight + timedelta(days=1)))
    with session_scope(engine) as session:
        day = fills_for_day(session, "paper", date(2026, 11, 23))
    assert [f.trade_id for f in day] == ["first", "last"]


def test_a_kept_ledger_reads_what_the_store_holds(engine: Engine) -> None:
    """Inside ``fills_kept`` the ledger is read once and kept; a written fill and a rolled-back
    transaction are seen exactly as without it."""
    _upsert(engine, fill("one"))
    with fills_kept():
        assert [f.trade_id for f in _stored(engine)] == ["one"]
        with session_scope(engine) as session:  # kept: the same list, not the same object
            fills(session, "paper").clear()
        assert [f.trade_id for f in _stored(engine)] == ["one"]
        _upsert(engine, fill("two", matched_at=NOW + timedelta(seconds=1)))
        assert [f.trade_id for f in _stored(engine)] == ["one", "two"]
        with pytest.raises(RuntimeError), session_scope(engine) as session:
            upsert_fill(session, fill("three", matched_at=NOW + timedelta(seconds=2)), mode="paper")
            assert len(fills(session, "paper")) == 3  # kept inside the transaction...
            raise RuntimeError("rolled back")
        assert [f.trade_id for f in _stored(engine)] == ["one", "two"]  # ...and forgotten
        with session_scope(engine) as session:
            assert [f.trade_id for f in fills(session, "paper", since=NOW)] == ["one", "two"]
    assert [f.trade_id for f in _stored(engine)] == ["one", "two"]
