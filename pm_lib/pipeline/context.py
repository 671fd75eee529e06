"""One run's context: everything a stage needs that is not market data."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy.engine import Engine

from pm_lib.execution.base import Executor
from pm_lib.execution.factory import ExecutorWindow, make_executor
from pm_lib.models import OrderBook
from pm_lib.settings import Settings
from pm_lib.store.control import HaltSwitch

__all__ = ["RunContext", "StageClock", "new_run_id"]


def new_run_id() -> str:
    """A fresh run id (also used in order intent keys, so it must never repeat)."""
    return uuid.uuid4().hex


@dataclass
class StageClock:
    """Wall time per stage, in order, as exact decimals of seconds (for summaries)."""

    seconds: dict[str, Decimal] = field(default_factory=dict)

    def record(self, stage: str, started: float, finished: float) -> None:
        self.seconds[stage] = Decimal(str(round(finished - started, 4)))


@dataclass(frozen=True)
class RunContext:
    """What a run is: its settings, store, identity and whether live trading is armed."""

    settings: Settings
    engine: Engine
    run_id: str
    flow_name: str
    live_armed: bool = False
    flow_run_id: str | None = None
    halt_switch: HaltSwitch | None = None
    """The Prefect UI kill switch's reader (flows set it); ``halted`` honours it."""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    window: ExecutorWindow | None = None
    """A stream window's shared executor resources (its SDK client); None: each executor
    connects its own."""

    @property
    def mode(self) -> Literal["paper", "live"]:
        """The mode orders will be placed in: live only when configured AND armed."""
        return "live" if self.settings.mode == "live" and self.live_armed else "paper"

    def executor(self, books: Mapping[str, OrderBook] | None = None) -> Executor:
        """The run's executor (paper unless live is configured, armed and keyed); the run and
        flow run ids go on every intent and fill it stores. Close it when done."""
        return make_executor(
            self.settings,
            live_armed=self.live_armed,
            engine=self.engine,
            run_id=self.run_id,
            flow_run_id=self.flow_run_id,
            books=books,
            window=self.window,
        )

    def now(self) -> datetime:
        """The current UTC time (one place, so tests can subclass)."""
        return datetime.now(UTC)
