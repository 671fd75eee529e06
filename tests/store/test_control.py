"""The kill switch and other control flags."""

from __future__ import annotations

from sqlalchemy import Engine

from pm_lib.store.control import (
    HALTED,
    SWITCH_BY,
    HaltSwitch,
    get_flag,
    halt,
    halt_refusal,
    halted,
    is_halted,
    is_unwind_key,
    parse_switch,
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


# --- the Prefect UI switch (issue 18.3): a control input mirrored into the one flag ---------


def _switch(value: object, changes: list[tuple[bool, str]] | None = None) -> HaltSwitch:
    def read() -> object:
        if isinstance(value, Exception):
            raise value
        return value

    seen = changes if changes is not None else []
    return HaltSwitch(read=read, on_change=lambda on, r: seen.append((on, r)))


def test_switch_values_are_plain_json_never_a_string_holding_json() -> None:
    assert parse_switch(None) == (False, "")
    assert parse_switch(False) == (False, "")
    assert parse_switch("false") == (False, "")
    assert parse_switch(True)[0] is True
    assert parse_switch({"halted": True, "reason": "news"}) == (True, "news")
    assert parse_switch({"halted": False, "reason": "x"}) == (False, "")
    assert parse_switch('{"halted": true}') is None, "the old double encoding means nothing"
    assert parse_switch({"halted": "yes"}) is None and parse_switch(3) is None


def test_a_halt_in_the_switch_is_mirrored_with_its_reason_and_announced(engine: Engine) -> None:
    changes: list[tuple[bool, str]] = []

    assert halted(engine, _switch({"halted": True, "reason": "news"}, changes)) == "news"

    with session_scope(engine) as session:
        flag = get_flag(session, HALTED)
    assert flag is not None and (flag.value, flag.updated_by) == ("true", SWITCH_BY)
    assert changes == [(True, "news")]
    halted(engine, _switch({"halted": True, "reason": "news"}, changes))
    assert changes == [(True, "news")], "no change, no second announcement"
    assert halted(engine, _switch(False, changes)) is None
    assert changes[-1] == (False, "resumed from the Prefect UI")


def test_a_false_switch_never_lifts_a_halt_set_by_someone_else(engine: Engine) -> None:
    with session_scope(engine) as session:
        halt(session, "risk desk", "cli")

    assert halted(engine, _switch(False)) == "risk desk"


def test_an_unreadable_or_unknown_switch_refuses_without_touching_the_flag(engine: Engine) -> None:
    assert "unreadable" in (halted(engine, _switch(RuntimeError("API down"))) or "")
    assert "holds 'maybe'" in (halted(engine, _switch("maybe")) or "")
    with session_scope(engine) as session:
        assert get_flag(session, HALTED) is None
    assert halted(engine) is None, "the flag alone says trading is on"
