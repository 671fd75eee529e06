"""`pm-agent demo --data-dir D` never deletes a directory it did not create."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.cli.demo_dir import DEMO_MARKER, NotADemoDirectory, prepare_demo_dir


def test_a_directory_with_other_content_is_refused_and_kept(tmp_path: Path) -> None:
    precious = tmp_path / "work"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["demo", "--data-dir", str(precious)])
    assert result.exit_code == 2
    assert "not made by pm-agent demo" in result.output
    assert (precious / "notes.txt").read_text() == "mine"


def test_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("x")
    with pytest.raises(NotADemoDirectory):
        prepare_demo_dir(target)
    assert target.read_text() == "x"


def test_a_demo_directory_is_cleared_and_an_empty_one_used(tmp_path: Path) -> None:
    made = tmp_path / "demo"
    prepare_demo_dir(made)
    (made / "pm_agent.db").write_text("old run")
    prepare_demo_dir(made)
    assert sorted(p.name for p in made.iterdir()) == [DEMO_MARKER]
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_demo_dir(empty)
    assert (empty / DEMO_MARKER).is_file()
