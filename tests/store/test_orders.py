"""Order intents: one owner per key, hash stored before posting, statuses only move forward."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from pm_lib.models import OrderRequest, OrderStatus, OrderType, Side
from pm_lib.store.engine import session_scope
from pm_lib.store.errors import IntentAlreadyExists, InvalidIntentTransition, UnknownIntent
from pm_lib.store.orders import (
    can_transition,
    create_intent,
    intent_by_key,
    intent_by_order_id,
    intents_by_status,
    intents_for_run,
    open_intents,
    set_signed,
    update_intent,
)
from pm_lib.store.rows import IntentSpec, OrderIntentRow, intent_key_for
from tests.store.samples import NOW, intent

KEY = "run-1:opp-1:0"


def _create(engine: Engine, spec: IntentSpec | None = None) -> OrderIntentRow:
    with session_scope(engine) as session:
        return create_intent(session, spec or intent(KEY))


def _update(engine: Engine, status: OrderStatus, **fields: object) -> OrderIntentRow:
    with session_scope(engine) as session:
        return update_intent(session, KEY, status=status, at=NOW, **fields)  # type: ignore[arg-type]


def test_intent_key_is_deterministic() -> None:
    assert intent_key_for("run-1", "opp-1", 0) == intent_key_for("run-1", "opp-1", 0)


def test_intent_keys_differ_by_leg() -> None:
    assert intent_key_for("run-1", "opp-1", 0) != intent_key_for("run-1", "opp-1", 1)


def test_new_intent_is_pending_with_nothing_filled(engine: Engine) -> None:
    row = _create(engine)
    assert (row.status, row.filled_size, row.fee, row.venue_order_id) == (
        OrderStatus.PENDING,
        Decimal(0),
        Decimal(0),
        None,
    )


def test_new_intent_keeps_exact_size_and_price(engine: Engine) -> None:
    row = _create(engine)
    assert (row.size, row.price, row.side, row.order_type) == (
        Decimal("123.45"),
        Decimal("0.487"),
        Side.BUY,
        OrderType.FOK,
    )


def test_intent_spec_from_an_executor_request_keeps_its_key() -> None:
    request = OrderRequest(
        intent_key="k-1",
        token_id="111",
        condition_id="0xc",
        side=Side.SELL,
        size=Decimal("10"),
        price=Decimal("0.55"),
        order_type=OrderType.GTC,
        post_only=True,
        tick_size=Decimal("0.01"),
        neg_risk=True,
    )
    spec = IntentSpec.from_request(
        request, run_id="r", opportunity_id="o", leg_index=1, mode="live", created_at=NOW
    )
    assert (spec.intent_key, spec.side, spec.post_only, spec.neg_risk) == (
        "k-1",
        Side.SELL,
        True,
        True,
    )


def test_second_intent_with_the_same_key_is_refused(engine: Engine) -> None:
    _create(engine)
    with pytest.raises(IntentAlreadyExists):
        _create(engine)


def test_refused_duplicate_leaves_the_session_usable(engine: Engine) -> None:
    _create(engine)
    with session_scope(engine) as session:
        with pytest.raises(IntentAlreadyExists):
            create_intent(session, intent(KEY))
        create_intent(session, intent("run-1:opp-1:1"))
    with session_scope(engine) as session:
        assert len(intents_for_run(session, "run-1")) == 2


def test_two_workers_racing_for_one_key_leave_exactly_one_owner(engine: Engine) -> None:
    keys = [f"race-{n}" for n in range(5)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for key in keys:
            barrier.wait(timeout=30)
            try:
                _create(engine, intent(key))
                outcome = "won"
            except IntentAlreadyExists:
                outcome = "lost"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert (outcomes.count("won"), outcomes.count("lost")) == (5, 5)
    with session_scope(engine) as session:
        assert len(intents_for_run(session, "run-1")) == 5


def test_signed_hash_is_stored_before_posting(engine: Engine) -> None:
    _create(engine)
    with session_scope(engine) as session:
        row = set_signed(session, KEY, "0xhash", at=NOW)
    assert (row.status, row.venue_order_id) == (OrderStatus.SIGNED, "0xhash")


def test_signing_again_with_the_same_hash_changes_nothing(engine: Engine) -> None:
    _create(engine)
    with session_scope(engine) as session:
        first = set_signed(session, KEY, "0xhash", at=NOW)
    with session_scope(engine) as session:
        assert set_signed(session, KEY, "0xhash") == first


def test_signing_again_with_another_hash_is_refused(engine: Engine) -> None:
    _create(engine)
    with session_scope(engine) as session:
        set_signed(session, KEY, "0xhash", at=NOW)
    with pytest.raises(InvalidIntentTransition), session_scope(engine) as session:
        set_signed(session, KEY, "0xother")


def test_intent_is_found_by_its_order_hash(engine: Engine) -> None:
    _create(engine)
    with session_scope(engine) as session:
        set_signed(session, KEY, "0xhash", at=NOW)
    with session_scope(engine) as session:
        found = intent_by_order_id(session, "0xhash")
    assert found is not None
    assert found.intent_key == KEY


def test_fill_details_are_recorded(engine: Engine) -> None:
    _create(engine)
    row = _update(
        engine,
        OrderStatus.MATCHED,
        filled_size=Decimal("123.45"),
        avg_price=Decimal("0.481234"),
        fee=Decimal("0.123456"),
    )
    assert (row.status, row.filled_size, row.avg_price, row.fee) == (
        OrderStatus.MATCHED,
        Decimal("123.45"),
        Decimal("0.481234"),
        Decimal("0.123456"),
    )


def test_terminal_intent_never_goes_back(engine: Engine) -> None:
    _create(engine)
    _update(engine, OrderStatus.CANCELED)
    with pytest.raises(InvalidIntentTransition):
        _update(engine, OrderStatus.LIVE)


def test_refused_transition_leaves_the_stored_status(engine: Engine) -> None:
    _create(engine)
    _update(engine, OrderStatus.LIVE)
    with pytest.raises(InvalidIntentTransition):
        _update(engine, OrderStatus.PENDING)
    with session_scope(engine) as session:
        row = intent_by_key(session, KEY)
    assert row is not None
    assert row.status is OrderStatus.LIVE


def test_unknown_outcome_may_resolve_to_any_status(engine: Engine) -> None:
    _create(engine)
    _update(engine, OrderStatus.UNKNOWN, error="post timed out")
    assert _update(engine, OrderStatus.LIVE).status is OrderStatus.LIVE


def test_updating_an_unknown_key_is_an_error(engine: Engine) -> None:
    with pytest.raises(UnknownIntent), session_scope(engine) as session:
        update_intent(session, "nope", status=OrderStatus.LIVE)


@pytest.mark.parametrize(
    ("current", "requested", "allowed"),
    [
        (OrderStatus.PENDING, OrderStatus.SIGNED, True),
        (OrderStatus.SIGNED, OrderStatus.PENDING, False),
        (OrderStatus.SIGNED, OrderStatus.UNKNOWN, True),
        (OrderStatus.UNKNOWN, OrderStatus.SIGNED, True),
        (OrderStatus.LIVE, OrderStatus.SIGNED, False),
        (OrderStatus.LIVE, OrderStatus.LIVE, True),
        (OrderStatus.PENDING, OrderStatus.REJECTED, True),
        (OrderStatus.MATCHED, OrderStatus.MATCHED, True),
        (OrderStatus.MATCHED, OrderStatus.UNKNOWN, False),
        (OrderStatus.REJECTED, OrderStatus.LIVE, False),
        (OrderStatus.EXPIRED, OrderStatus.CANCELED, False),
    ],
)
def test_allowed_status_transitions(
    current: OrderStatus, requested: OrderStatus, allowed: bool
) -> None:
    assert can_transition(current, requested) is allowed


def test_open_intents_exclude_terminal_and_other_mode(engine: Engine) -> None:
    _create(engine, intent("run-1:opp-1:0"))
    _create(engine, intent("run-1:opp-1:1"))
    _create(engine, intent("run-1:opp-1:2", mode="live"))
    with session_scope(engine) as session:
        update_intent(session, "run-1:opp-1:1", status=OrderStatus.MATCHED)
    with session_scope(engine) as session:
        assert [r.intent_key for r in open_intents(session, "paper")] == ["run-1:opp-1:0"]


def test_intents_are_selected_by_status(engine: Engine) -> None:
    _create(engine, intent("a"))
    _create(engine, intent("b"))
    with session_scope(engine) as session:
        update_intent(session, "b", status=OrderStatus.UNKNOWN)
    with session_scope(engine) as session:
        found = intents_by_status(session, [OrderStatus.UNKNOWN])
    assert [r.intent_key for r in found] == ["b"]
