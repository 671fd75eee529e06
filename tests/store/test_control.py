"""The kill switch and other control flags."""

from __future__ import annotations

from sqlalchemy import Engine

from pm_lib.store.control import (
    HALTED,
    get_flag,
    halt,
    halt_refusal,
    halted,
    is_halted,
    is_unwind_key,
    resume,
    set_flag,
)
from pm_lib.store.engine import session_scope
from tests.store.samples import NOW


def test_not_halted_before_anyone_halts(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert is_halted(session) == (False, "")


def test_halt_reports_its_reason(engine: Engine) -> None:
    with session_scope(engine) as session:
        halt(session, "daily loss limit", "risk")
    with session_scope(engine) as session:
        assert is_halted(session) == (True, "daily loss limit")


def test_resume_lifts_the_halt(engine: Engine) -> None:
    with session_scope(engine) as session:
        halt(session, "manual", "ops")
    with session_scope(engine) as session:
        resume(session, "checked", "ops")
    with session_scope(engine) as session:
        assert is_halted(session) == (False, "")


def test_flag_records_who_and_when(engine: Engine) -> None:
    with session_scope(engine) as session:
        set_flag(session, "note", "v", "because", "alice", at=NOW)
    with session_scope(engine) as session:
        flag = get_flag(session, "note")
    assert flag is not None
    assert (flag.value, flag.reason, flag.updated_by, flag.updated_at) == (
        "v",
        "because",
        "alice",
        NOW,
    )


def test_halt_is_the_halted_flag(engine: Engine) -> None:
    with session_scope(engine) as session:
        halt(session, "manual", "ops", at=NOW)
    with session_scope(engine) as session:
        flag = get_flag(session, HALTED)
    assert flag is not None
    assert flag.value == "true"


def test_halted_is_the_one_cheap_check_every_path_calls(engine: Engine) -> None:
    assert halted(engine) is None
    assert halt_refusal(engine, "r1:opp:0") is None
    with session_scope(engine) as session:
        halt(session, "operator stop", "cli")
    assert halted(engine) == "operator stop"
    assert halt_refusal(engine, "r1:opp:0") == "not sent: trading halted: operator stop"
    # an unwind closes a leg the halt left open: it still goes out
    assert is_unwind_key("r1:opp:unwind:0") and halt_refusal(engine, "r1:opp:unwind:0") is None
