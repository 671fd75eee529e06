"""Offline, quiet Prefect defaults, applied before Prefect is imported.

Measured on these machines (../shared/PREFECT-NOTES.md): without these, the server and clients
try telemetry hosts, and the first ephemeral API start can exceed Prefect's 20 s default.
Values already set in the environment win, so a user pointing ``PREFECT_API_URL`` at a real
server keeps it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["apply_prefect_defaults"]


def apply_prefect_defaults(data_dir: Path | None = None) -> None:
    """Set offline Prefect settings (telemetry off, project-local PREFECT_HOME, long startup)."""
    home = (data_dir or Path(os.environ.get("PM_DATA_DIR", "data"))) / "prefect"
    defaults = {
        "PREFECT_HOME": str(home.resolve()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"),
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    # Prefect's server cannot create its SQLite file in a folder that does not exist yet.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
