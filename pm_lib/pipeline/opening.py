"""What every run does first, with or without Prefect: settings (with per-run overrides), the
store migrated to head, the arming checked, the run row stored.

``flows.runtime.open_run`` calls ``open_run`` with the Prefect flow run's id; ``pm-agent scan``
without a Prefect API calls it with none (docs/OPERATIONS.md, "Scanning without a Prefect server").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Engine

from pm_lib.errors import ConfigurationError
from pm_lib.execution.factory import run_credentials
from pm_lib.pipeline.context import RunContext, new_run_id
from pm_lib.settings import Settings
from pm_lib.store.control import HaltSwitch, halted
from pm_lib.store.engine import make_engine, session_scope, upgrade
from pm_lib.store.runs import start_run

__all__ = ["next_run", "open_run", "run_settings", "store_engine"]

_ENGINES: dict[str, Engine] = {}


def store_engine(settings: Settings) -> Engine:
    """One engine per database URL per process, migrated to head on first use."""
    url = settings.resolved_database_url
    engine = _ENGINES.get(url)
    if engine is None:
        engine = make_engine(url)
        upgrade(engine)
        _ENGINES[url] = engine
    return engine


def run_settings(
    strategies: Sequence[str] | None = None, limits: Mapping[str, Any] | None = None
) -> Settings:
    """Settings from the environment with this run's overrides, validated like any other."""
    base = Settings()
    overrides: dict[str, Any] = dict(limits or {})
    if strategies:
        overrides["strategies"] = tuple(strategies)
    if not overrides:
        return base
    unknown = set(overrides) - set(Settings.model_fields)
    if unknown:
        raise ConfigurationError(f"unknown setting overrides {sorted(unknown)}")
    return Settings(**{**base.model_dump(), **overrides})


def open_run(
    flow_name: str,
    *,
    live: bool = False,
    strategies: Sequence[str] | None = None,
    limits: Mapping[str, Any] | None = None,
    flow_run_id: str | None = None,
    halt_switch: HaltSwitch | None = None,
) -> RunContext:
    """Start a run: validate settings, refuse a run whose arming is wrong, store the row.

    A run whose mode and arming disagree (``PM_MODE=live`` without ``live``, ``live`` with
    ``PM_MODE=paper``), or an armed one whose credentials are missing or malformed, raises
    ``ConfigurationError`` here, before anything is fetched or stored: a misconfigured
    scheduled deployment fails its first run instead of scanning without being able to trade.
    ``halt_switch`` (the Prefect UI's kill switch) is honoured before the run reads anything:
    a halt set there is mirrored into the DB flag the risk gate reads.
    """
    settings = run_settings(strategies, limits)
    run_credentials(settings, live_armed=live)
    engine = store_engine(settings)
    ctx = RunContext(
        settings=settings,
        engine=engine,
        run_id=new_run_id(),
        flow_name=flow_name,
        live_armed=live,
        flow_run_id=flow_run_id,
        halt_switch=halt_switch,
    )
    if halt_switch is not None:
        halted(engine, halt_switch)
    return _started(ctx)


def next_run(ctx: RunContext) -> RunContext:
    """The next run of the same flow run (a scan loop's next scan): the same validated settings
    and arming, a new run id, its own stored row (the UI kill switch honoured again)."""
    if ctx.halt_switch is not None:
        halted(ctx.engine, ctx.halt_switch)
    return _started(replace(ctx, run_id=new_run_id(), started_at=ctx.now()))


def _started(ctx: RunContext) -> RunContext:
    with session_scope(ctx.engine) as session:
        start_run(
            session,
            run_id=ctx.run_id,
            flow_name=ctx.flow_name,
            mode=ctx.mode,
            flow_run_id=ctx.flow_run_id,
            started_at=ctx.started_at,
        )
    return ctx
