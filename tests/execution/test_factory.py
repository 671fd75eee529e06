"""The factory: paper by default; live only when configured, armed and keyed, else a clear no."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from pm_lib.errors import ConfigurationError
from pm_lib.execution.factory import (
    ARMED_IN_PAPER_MODE,
    LIVE_NOT_ARMED,
    NO_CREDENTIALS,
    make_executor,
)
from pm_lib.execution.paper import PaperExecutor
from pm_lib.settings import Settings


def settings_for(tmp_path: Path, mode: str) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, mode=mode)  # type: ignore[call-arg]


def test_paper_is_the_default_and_needs_no_credentials(tmp_path: Path, engine: Engine) -> None:
    executor = make_executor(
        settings_for(tmp_path, "paper"), live_armed=False, engine=engine, environ={}
    )
    assert isinstance(executor, PaperExecutor)
    assert executor.mode == "paper"


def test_arming_live_without_live_mode_is_refused(tmp_path: Path, engine: Engine) -> None:
    with pytest.raises(ConfigurationError) as info:
        make_executor(settings_for(tmp_path, "paper"), live_armed=True, engine=engine)
    assert str(info.value) == ARMED_IN_PAPER_MODE


def test_live_mode_without_arming_is_refused(tmp_path: Path, engine: Engine) -> None:
    with pytest.raises(ConfigurationError) as info:
        make_executor(settings_for(tmp_path, "live"), live_armed=False, engine=engine)
    assert str(info.value) == LIVE_NOT_ARMED


def test_armed_live_mode_without_credentials_is_refused_naming_the_variable(
    tmp_path: Path, engine: Engine
) -> None:
    with pytest.raises(ConfigurationError) as info:
        make_executor(settings_for(tmp_path, "live"), live_armed=True, engine=engine, environ={})
    assert str(info.value) == f"{NO_CREDENTIALS}: POLYMARKET_PRIVATE_KEY is not set"


def test_the_three_refusals_are_distinct() -> None:
    assert len({ARMED_IN_PAPER_MODE, LIVE_NOT_ARMED, NO_CREDENTIALS}) == 3
