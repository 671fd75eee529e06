"""What every flow does first: settings (with per-run overrides), the store, the run row."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from prefect.runtime import flow_run
from prefect.variables import Variable

from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.opening import next_run, run_settings, store_engine
from pm_lib.pipeline.opening import open_run as open_scan_run
from pm_lib.settings import Settings
from pm_lib.venue.errors import ConfigurationError

__all__ = [
    "next_run",
    "open_run",
    "read_fair_values",
    "retry_unless_misconfigured",
    "run_settings",
    "store_engine",
]


def open_run(
    flow_name: str,
    *,
    live: bool = False,
    strategies: Sequence[str] | None = None,
    limits: Mapping[str, Any] | None = None,
) -> RunContext:
    """``pm_lib.pipeline.opening.open_run`` with this Prefect flow run's id on the run row."""
    flow_run_id = flow_run.get_id()
    return open_scan_run(
        flow_name,
        live=live,
        strategies=strategies,
        limits=limits,
        flow_run_id=str(flow_run_id) if flow_run_id else None,
    )


def retry_unless_misconfigured(task: Any, task_run: Any, state: Any) -> bool:
    """A task's ``retry_condition_fn``: retry anything but a ``ConfigurationError``, which
    fails the same way every time (a retry would only delay the refusal)."""
    return not isinstance(getattr(state, "data", None), ConfigurationError)


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
