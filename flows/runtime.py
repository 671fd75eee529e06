"""What every flow does first: settings (with per-run overrides), the store, the run row."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.client.schemas.objects import FlowRun, State
from prefect.runtime import flow_run
from prefect.variables import Variable

from pm_lib.errors import ConfigurationError
from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.opening import next_run, run_settings, store_engine
from pm_lib.pipeline.opening import open_run as open_scan_run
from pm_lib.settings import Settings
from pm_lib.store.control import SWITCH_VARIABLE, HaltSwitch, switch_value

__all__ = [
    "name_failed_run",
    "next_run",
    "open_run",
    "read_fair_values",
    "read_switch",
    "rename_flow_run",
    "run_settings",
    "starting_name",
    "store_engine",
    "ui_switch",
    "write_switch",
]


def read_switch() -> object:
    """The Prefect UI kill switch (Variable ``pm_agent_halted``) as stored; ``None`` if unset.

    Synchronous on purpose (``_sync=True``): the checks that call it run in blocking stages,
    inside an event loop's thread; it opens one short-lived sync API client.
    """
    return Variable.get(SWITCH_VARIABLE, _sync=True)  # type: ignore[call-overload]


def ui_switch(mode: str) -> HaltSwitch:
    """The Prefect UI kill switch of a run in ``mode``: a change it makes emits the halted or
    resumed event (``flows.alerts``)."""
    from flows.alerts import HALTED, RESUMED, emit

    def changed(on: bool, reason: str) -> None:
        emit(HALTED if on else RESUMED, mode, {"reason": reason, "by": "prefect-variable"})

    return HaltSwitch(read=read_switch, on_change=changed)


def starting_name(what: str) -> Any:
    """A flow's ``flow_run_name`` while it runs ("paper scan…", "live-armed scan…"); the
    flow renames the run after what it did when it ends (``rename_flow_run``)."""

    def name() -> str:
        armed = bool(flow_run.parameters.get("live"))
        return f"{'live-armed' if armed else 'paper'} {what}: running"

    return name


def name_failed_run(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
    """A flow's ``on_failure``/``on_crashed`` hook: the run's name says it failed and why
    ("paper scan: FAILED: ConfigurationError: ..."), so the runs list shows it."""
    from prefect.client.orchestration import get_client

    run = flow_run
    prefix = str(run.name).removesuffix(": running")
    message = str(getattr(state, "message", "") or state.name)
    message = message.removeprefix("Flow run encountered an exception: ")
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(run.id, name=f"{prefix}: FAILED: {message}"[:120])
    except Exception as error:  # cosmetic; the run's state already says it failed
        logging.getLogger(__name__).warning("could not rename flow run %s: %s", run.id, error)


async def rename_flow_run(name: str) -> None:
    """Name the current flow run after what it did ("paper: 3 orders, 1 filled"), so the
    runs list says which scans traded. Best effort: a run's outcome never depends on it."""
    from prefect.client.orchestration import get_client

    run_id = flow_run.get_id()
    if not run_id:
        return
    try:
        async with get_client() as client:
            await client.update_flow_run(UUID(str(run_id)), name=name)
    except Exception as error:  # the name is cosmetic; the run's rows are what count
        logging.getLogger(__name__).warning("could not rename flow run %s: %s", run_id, error)


def write_switch(on: bool, reason: str) -> None:
    """Show a flag state in the UI switch (what ``halt``/``resume`` write after the DB flag)."""
    Variable.set(SWITCH_VARIABLE, switch_value(on, reason), overwrite=True, _sync=True)  # type: ignore[call-arg]


def open_run(
    flow_name: str,
    *,
    live: bool = False,
    strategies: Sequence[str] | None = None,
    limits: Mapping[str, Any] | None = None,
) -> RunContext:
    """``pm_lib.pipeline.opening.open_run`` with this Prefect flow run's id on the run row and
    the Prefect UI kill switch (Variable ``pm_agent_halted``) honoured at the run's start."""
    flow_run_id = flow_run.get_id()
    settings = run_settings(strategies, limits)
    switch = ui_switch("live" if settings.mode == "live" and live else "paper")
    return open_scan_run(
        flow_name,
        live=live,
        strategies=strategies,
        limits=limits,
        flow_run_id=str(flow_run_id) if flow_run_id else None,
        halt_switch=switch,
    )


async def read_fair_values(settings: Settings) -> dict[str, str] | None:
    """The fair values in the Prefect Variable ``PM_FAIR_VALUE_VARIABLE`` (a JSON object)."""
    if not settings.fair_value_variable or "fair_value" not in settings.strategies:
        return None
    raw = await Variable.aget(settings.fair_value_variable)
    if raw is None:
        raise ConfigurationError(
            f"Prefect Variable {settings.fair_value_variable!r} (PM_FAIR_VALUE_VARIABLE) is not set"
        )
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, dict):
        raise ConfigurationError("the fair-value Variable must hold a JSON object")
    return {str(k): str(v) for k, v in value.items()}
