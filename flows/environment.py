"""Offline, quiet Prefect defaults, applied before Prefect is imported.

Measured on these machines (docs/PREFECT.md): without these, the server and clients
try telemetry hosts, and the first ephemeral API start can exceed Prefect's 20 s default.
Values already set in the environment win, so a user pointing ``PREFECT_API_URL`` at a real
server keeps it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["apply_prefect_defaults", "is_plain_loopback_url"]

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_plain_loopback_url(url: str) -> bool:
    """True for an ``http://`` URL on this machine's loopback: a connection that has no TLS."""
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS


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
    # Every Prefect API client builds a certificate-verifying SSL context from certifi's bundle
    # when it is created, even for a plain-HTTP API: ~50 ms of CPU here, twice a flow run
    # (docs/PERFORMANCE.md). A plain-HTTP loopback API never does a TLS handshake, so for that
    # case only the client is told to build an unverified context (no bundle parsed). An
    # https:// or remote API keeps full verification; an explicit setting always wins.
    if is_plain_loopback_url(os.environ.get("PREFECT_API_URL", "")):
        defaults["PREFECT_API_TLS_INSECURE_SKIP_VERIFY"] = "true"
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    # Prefect's server cannot create its SQLite file in a folder that does not exist yet.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
