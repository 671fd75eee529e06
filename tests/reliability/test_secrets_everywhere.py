"""No key, secret or passphrase anywhere after the demo and the live path ran with them set.

``secrets_session.py`` runs, in a process of its own with ``PREFECT_HOME`` in the work folder,
the offline demo and the live path on the emulator through the real CLI, with marker and real
(derived) credentials in the environment, faults on the order endpoint, a failing reconcile
and a truncated key (see its docstring). Then every byte it left is searched: its stdout and
stderr (CLI output, tracebacks, Prefect's console logs), the DEBUG log file, pm-agent's
databases and Prefect's own database (flow runs, task runs, logs, artifacts).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("PM_TEST_DATABASE_URL")),
    reason="the session keeps its own SQLite files to scan; it runs in the SQLite pass",
)


def spellings(secret: str) -> list[str]:
    """How a secret could show up: as is, without ``0x``, in either case; for a private key
    also every 24-character run of it (a truncated or partly masked key is still a leak); for
    one with control characters also quoted (``repr``, as bytes) and each piece between them
    (a log line may be split there)."""
    bare = secret.removeprefix("0x")
    runs = [bare[i : i + 24] for i in range(len(bare) - 23)] if len(bare) == 64 else [bare]
    if any(ch in bare for ch in "\t\r\n"):
        pieces = [p for p in re.split(r"[\t\r\n]+", bare) if len(p) >= 8]
        runs += [repr(bare)[1:-1], repr(bare.encode())[2:-1], *pieces]
    return sorted({secret, *runs, *(r.upper() for r in runs), *(r.lower() for r in runs)})


def leaks(places: dict[str, bytes], secrets: list[str]) -> list[tuple[str, str]]:
    """(place, first characters of the spelling) for every secret spelling found somewhere."""
    return [
        (place, spelling[:6] + "...")
        for secret in secrets
        for spelling in spellings(secret)
        for place, data in places.items()
        if spelling.encode() in data
    ]


def test_a_secret_with_a_newline_is_found_quoted_or_in_pieces() -> None:
    secret = "ctl-pass-93e1d0\nctl-pass-tail-55b7a2"
    places = {
        "quoted": b"Illegal header value b'ctl-pass-93e1d0\\nctl-pass-tail-55b7a2'",
        "split": b"...ctl-pass-93e1d0\n",
        "clean": b"Illegal header value b'**********'",
    }
    assert {place for place, _ in leaks(places, [secret])} == {"quoted", "split"}


def test_a_leaked_piece_of_a_key_is_found_in_any_case() -> None:
    key = "0x" + "0123456789abcdef" * 4
    places = {"log": b"... signing with " + key[30:56].upper().encode() + b" ...", "db": b"ok"}
    assert {place for place, _ in leaks(places, [key])} == {"log"}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[str]]:
    """Run the session once; (work folder, its stdout + stderr, the secrets it used)."""
    base = tmp_path_factory.mktemp("secrets")
    work, secrets_file = base / "work", base / "secrets.json"
    work.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PM_", "POLYMARKET_", "PREFECT_"))
    }
    env["PREFECT_HOME"] = str(work / "prefect")
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.secrets_session", str(work), str(secrets_file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return work, done.stdout + done.stderr, json.loads(secrets_file.read_text())


def written_files(work: Path) -> dict[str, bytes]:
    return {str(p.relative_to(work)): p.read_bytes() for p in work.rglob("*") if p.is_file()}


def test_the_session_reached_every_place_it_should_write_to(
    session: tuple[Path, str, list[str]],
) -> None:
    work, output, _ = session
    assert "pm-agent demo" in output and '"mode": "live"' in output
    assert "Unauthorized" in output  # the marker API credentials were sent and refused
    assert "no response" in output and '"status": "MATCHED"' in output  # faults, then trades
    assert "refused: live trading needs credentials" in output  # the truncated key
    for name in ("POLYMARKET_API_KEY", "POLYMARKET_SECRET", "POLYMARKET_PASSPHRASE"):
        assert f"{name} contains a control character" in output  # refused when loaded
    assert "Illegal header value" in output  # sent past the loader: refused by the HTTP layer
    assert {"demo/pm_agent.db", "live/pm_agent.db", "pm-agent.log"} <= set(written_files(work))
    with sqlite3.connect(work / "prefect" / "prefect.db") as prefect:
        artifacts, logs = (
            prefect.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("artifact", "log")
        )
        quoted = prefect.execute(
            "SELECT count(*) FROM log WHERE message LIKE '%Illegal header value%'"
        ).fetchone()[0]
    assert artifacts >= 8 and logs >= 1
    assert quoted >= 1, "Prefect logged the traceback quoting the refused header"


def test_no_secret_in_output_logs_databases_or_artifacts(
    session: tuple[Path, str, list[str]],
) -> None:
    work, output, secrets = session
    places = {"stdout+stderr": output.encode(), **written_files(work)}
    assert leaks(places, secrets) == []
