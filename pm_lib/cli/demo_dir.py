"""The demo's data directory: created by the demo, and only ever cleared if the demo made it."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["DEMO_MARKER", "NotADemoDirectory", "prepare_demo_dir"]

DEMO_MARKER = ".pm-agent-demo"
"""A file the demo writes into the directory it creates; only such a directory is cleared."""


class NotADemoDirectory(ValueError):
    """``--data-dir`` names something the demo did not create and that is not empty."""


def prepare_demo_dir(path: Path) -> None:
    """An empty directory at ``path`` for a new demo, marked as the demo's.

    A directory an earlier demo made (it holds ``DEMO_MARKER``) is cleared; an empty one is
    used as is; anything else (a file, or a directory with other content) is refused and left
    untouched.
    """
    if path.exists() or path.is_symlink():
        if not path.is_dir() or path.is_symlink():
            raise NotADemoDirectory(f"--data-dir {path} exists and is not a directory")
        if (path / DEMO_MARKER).is_file():
            shutil.rmtree(path)
        elif any(path.iterdir()):
            raise NotADemoDirectory(
                f"--data-dir {path} is not empty and was not made by pm-agent demo: "
                "choose a new or empty directory"
            )
    path.mkdir(parents=True, exist_ok=True)
    (path / DEMO_MARKER).write_text("made by `pm-agent demo`; cleared by the next demo\n")
