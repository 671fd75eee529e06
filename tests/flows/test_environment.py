"""Prefect defaults: offline settings, and TLS verification left alone unless there is no TLS."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.environment import apply_prefect_defaults, is_plain_loopback_url

_SKIP = "PREFECT_API_TLS_INSECURE_SKIP_VERIFY"


@pytest.mark.parametrize(
    ("url", "plain_loopback"),
    [
        ("http://127.0.0.1:4200/api", True),
        ("http://localhost:4200/api", True),
        ("http://[::1]:4200/api", True),
        ("https://127.0.0.1:4200/api", False),
        ("http://10.0.0.5:4200/api", False),
        ("http://127.0.0.1.example.com/api", False),
        ("https://api.prefect.cloud/api/accounts/a/workspaces/w", False),
        ("", False),
    ],
)
def test_only_plain_http_on_loopback_counts_as_without_tls(url: str, plain_loopback: bool) -> None:
    assert is_plain_loopback_url(url) is plain_loopback


def _apply(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> None:
    monkeypatch.delenv(_SKIP, raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    apply_prefect_defaults(tmp_path)


def test_a_loopback_http_api_skips_building_a_verifying_context(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _apply(monkeypatch, tmp_path, PREFECT_API_URL="http://127.0.0.1:4200/api")
    assert os.environ[_SKIP] == "true"


@pytest.mark.parametrize(
    "url", ["https://api.prefect.cloud/api/accounts/a/workspaces/w", "http://prefect.internal/api"]
)
def test_a_tls_or_remote_api_keeps_verification(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str
) -> None:
    _apply(monkeypatch, tmp_path, PREFECT_API_URL=url)
    assert _SKIP not in os.environ


def test_an_explicit_setting_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _apply(monkeypatch, tmp_path, PREFECT_API_URL="http://127.0.0.1:4200/api", **{_SKIP: "false"})
    assert os.environ[_SKIP] == "false"
