"""``pm-agent db upgrade`` and ``pm-agent db current``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.settings import get_settings
from pm_lib.store.engine import head_revision

runner = CliRunner()


def test_upgrade_prints_the_database_and_head_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert f"database: {url}" in result.output
    assert f"revision: {head_revision()}" in result.output


@pytest.mark.postgres
def test_upgrade_masks_the_password(postgres_scratch_schema_url: str) -> None:
    # The test server trusts local connections, so any password is accepted (and must not show).
    url = make_url(postgres_scratch_schema_url).set(password="s3cret")
    result = runner.invoke(
        app, ["db", "upgrade", "--database-url", url.render_as_string(hide_password=False)]
    )
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert "***" in result.output


def test_unreachable_database_is_reported_without_a_traceback() -> None:
    result = runner.invoke(
        app, ["db", "upgrade", "--database-url", "postgresql://pm:s3cret@127.0.0.1:1/none"]
    )
    assert result.exit_code == 2
    assert "cannot migrate postgresql+psycopg://pm:***@127.0.0.1:1/none" in result.output


def test_current_fails_before_the_first_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = runner.invoke(app, ["db", "current", "--database-url", url])
    assert result.exit_code == 1
    assert "revision: none" in result.output


def test_current_succeeds_after_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner.invoke(app, ["db", "upgrade", "--database-url", url])
    result = runner.invoke(app, ["db", "current", "--database-url", url])
    assert result.exit_code == 0, result.output


def test_upgrade_defaults_to_the_sqlite_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PM_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "pm_agent.db").exists()
