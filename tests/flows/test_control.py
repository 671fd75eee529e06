"""Control from Prefect (issue 18.3), end to end under a local Prefect API and the emulator:
the UI Variable halts and resumes, halt/resume flows, a close that sells through the unwind
path (while halted too), runs named after what they did, artifacts on the flow run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.variables import Variable

from flows.control import close, halt, resume
from flows.scan_and_trade import scan_and_trade
from pm_lib.sim.scenarios import plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue
from pm_lib.store.control import HALTED, SWITCH_BY, SWITCH_VARIABLE, get_flag
from pm_lib.store.control import halt as store_halt
from pm_lib.store.engine import make_engine, session_scope
from pm_lib.store.orders import intents_for_run
from pm_lib.store.runs import get_run

pytestmark = [
    pytest.mark.prefect,
    pytest.mark.slow,
    pytest.mark.usefixtures("prefect_api", "planted", "clean_switch"),
]


@pytest.fixture()
def clean_switch(prefect_api: None) -> Iterator[None]:
    """The Variable is the session API's: leave it unset for the next test."""
    asyncio.run(Variable.aunset(SWITCH_VARIABLE))
    yield
    asyncio.run(Variable.aunset(SWITCH_VARIABLE))


def _scan() -> dict[str, Any]:
    return asyncio.run(scan_and_trade(live=False))


def _set_variable(value: Any) -> None:
    asyncio.run(Variable.aset(SWITCH_VARIABLE, value, overwrite=True))


def _flag(pm_env: Path) -> Any:
    with session_scope(make_engine(f"sqlite:///{pm_env}"), read_only=True) as session:
        return get_flag(session, HALTED)


def _flow_run_id(pm_env: Path, run_id: str) -> str:
    with session_scope(make_engine(f"sqlite:///{pm_env}"), read_only=True) as session:
        run = get_run(session, run_id)
    assert run is not None and run.flow_run_id
    return run.flow_run_id


async def _flow_run(flow_run_id: str) -> tuple[str, list[Any]]:
    async with get_client() as client:
        run = await client.read_flow_run(UUID(flow_run_id))
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return run.name, artifacts


def test_editing_the_variable_in_the_ui_halts_the_next_run_and_false_resumes_it(
    pm_env: Path, flow_venue: RunningVenue
) -> None:
    _set_variable({"halted": True, "reason": "news pending"})

    halted = _scan()

    assert halted["halted"] is True and halted["orders"] == []
    assert halted["decisions"] and all(d["rule"] == "kill_switch" for d in halted["decisions"])
    flag = _flag(pm_env)
    assert (flag.value, flag.reason, flag.updated_by) == ("true", "news pending", SWITCH_BY)
    name, _ = asyncio.run(_flow_run(_flow_run_id(pm_env, halted["run_id"])))
    assert name.startswith("paper: HALTED")

    _set_variable(False)
    plant_negrisk_arbitrage(flow_venue.venue)
    resumed = _scan()

    assert resumed["halted"] is False and resumed["orders"], "the Variable's own halt is undone"
    assert _flag(pm_env).value == "false"


def test_a_halt_set_elsewhere_is_not_resumed_by_a_stale_false_variable(pm_env: Path) -> None:
    _scan()  # creates the schema
    _set_variable(False)
    with session_scope(make_engine(f"sqlite:///{pm_env}")) as session:
        store_halt(session, "risk desk", "cli")

    report = _scan()

    assert report["halted"] is True and report["orders"] == []
    assert _flag(pm_env).updated_by == "cli"


def test_an_unreadable_variable_refuses_every_order_and_leaves_the_flag(pm_env: Path) -> None:
    _set_variable("maybe")

    report = _scan()

    assert report["orders"] == [], "fail closed: an unknown switch value places nothing"
    assert _flag(pm_env) is None


def test_halt_and_resume_flows_set_the_flag_and_the_variable_without_double_encoding(
    pm_env: Path,
) -> None:
    asyncio.run(halt(reason="maintenance"))

    assert asyncio.run(Variable.aget(SWITCH_VARIABLE)) == {
        "halted": True,
        "reason": "maintenance",
    }
    flag = _flag(pm_env)
    assert (flag.value, flag.reason, flag.updated_by) == ("true", "maintenance", "prefect-flow")
    assert _scan()["orders"] == []

    asyncio.run(resume(reason="done"))

    assert asyncio.run(Variable.aget(SWITCH_VARIABLE)) == {"halted": False, "reason": "done"}
    assert _flag(pm_env).value == "false"


def test_close_all_sells_the_positions_on_the_unwind_path_even_while_halted(
    pm_env: Path,
) -> None:
    bought = _scan()
    filled = [o for o in bought["orders"] if o["filled_size"] != "0"]
    assert filled, "the planted basket is bought"
    asyncio.run(halt(reason="get me out"))

    out = asyncio.run(close(all_positions=True))

    assert out["mode"] == "paper" and out["positions"]
    assert {p["token_id"] for p in out["positions"]} == {o["token_id"] for o in filled}
    assert all(p["sold"] != "0" for p in out["positions"]), out["positions"]
    with session_scope(make_engine(f"sqlite:///{pm_env}"), read_only=True) as session:
        intents = intents_for_run(session, out["run_id"])
    assert intents and all(":unwind:" in i.intent_key and str(i.side) == "SELL" for i in intents)
    name, artifacts = asyncio.run(_flow_run(_flow_run_id(pm_env, out["run_id"])))
    assert name.startswith("paper close:") and any(a.key == "close" for a in artifacts)
    again = asyncio.run(close(all_positions=True))
    sold_out = {p["token_id"] for p in out["positions"] if p["sold"] == p["held"]}
    assert not sold_out & {p["token_id"] for p in again["positions"]}, "a sold position is gone"


def test_close_refuses_a_token_not_held(pm_env: Path) -> None:
    from pm_lib.errors import ConfigurationError

    _scan()
    with pytest.raises(ConfigurationError, match="no open paper position"):
        asyncio.run(close(token_id="123"))


def test_a_scan_run_is_named_after_what_it_did_and_owns_its_artifacts(pm_env: Path) -> None:
    report = _scan()

    name, artifacts = asyncio.run(_flow_run(_flow_run_id(pm_env, report["run_id"])))

    filled = sum(1 for o in report["orders"] if o["filled_size"] != "0")
    assert name == f"paper: {len(report['orders'])} orders, {filled} filled"
    keyed = [a for a in artifacts if a.key]
    assert {"opportunities", "risk-decisions", "orders", "scan-summary"} <= {a.key for a in keyed}
    assert all(a.task_run_id is None for a in keyed), "published from the flow run itself"


def test_a_failed_run_is_named_failed_with_its_reason(pm_env: Path) -> None:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    from pm_lib.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        asyncio.run(scan_and_trade(live=False, limits={"bogus_limit": "1"}))

    async def failed() -> list[Any]:
        async with get_client() as client:
            return await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_="bogus_limit")),
                sort=FlowRunSort.START_TIME_DESC,
            )

    [run] = asyncio.run(failed())
    assert run.name.startswith("paper scan: FAILED: ConfigurationError: unknown setting")
