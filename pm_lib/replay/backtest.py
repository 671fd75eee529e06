"""A backtest: one replay per latency of a recording, each into its own store.

The store is a throwaway SQLite file (a temporary directory, removed after; created at the newest
schema directly, ``create_fresh``) unless a database URL is named (migrated as usual); a named
database takes one latency only (two replays in one account would mix).
Settings are the user's (``PM_*``: limits, paper balance, fees rules, strategies) with the mode
forced to paper and the strategies optionally overridden.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pm_lib.errors import ConfigurationError
from pm_lib.replay.digest import digests
from pm_lib.replay.engine import replay_recording
from pm_lib.replay.report import BacktestResult, decimal_text
from pm_lib.settings import Settings
from pm_lib.store import create_fresh, make_engine, upgrade

__all__ = ["backtest_settings", "parse_latencies", "run_backtest", "sweep_json", "sweep_rows"]


def parse_latencies(text: str) -> list[int]:
    """``"0,100,500"`` -> ``[0, 100, 500]`` (milliseconds, each >= 0)."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as e:
        raise ConfigurationError(f"--latency-ms {text!r}: expected integers like 0,100,500") from e
    if not values or any(v < 0 for v in values):
        raise ConfigurationError(f"--latency-ms {text!r}: expected non-negative integers")
    return values


def backtest_settings(
    base: Settings, strategies: Sequence[str] | None, database_url: str
) -> Settings:
    """``base`` for a replay: paper, into ``database_url``, with ``strategies`` if given."""
    update: dict[str, Any] = {"mode": "paper", "database_url": database_url}
    if strategies:
        update["strategies"] = list(strategies)
    return Settings(**{**base.model_dump(), **update})


async def run_backtest(
    directory: Path,
    base: Settings,
    latencies: Sequence[int],
    *,
    strategies: Sequence[str] | None = None,
    database_url: str | None = None,
    fair_values: dict[str, str] | None = None,
) -> list[BacktestResult]:
    """Replay ``directory`` once per latency; the results in that order."""
    if database_url is not None and len(latencies) > 1:
        raise ConfigurationError("a named --db takes one latency; leave it out for a sweep")
    results = []
    for latency in latencies:
        with tempfile.TemporaryDirectory(prefix="pm-backtest-") as scratch:
            url = database_url or f"sqlite:///{Path(scratch) / 'backtest.db'}"
            settings = backtest_settings(base, strategies, url)
            engine = make_engine(url)
            source = None
            try:
                source = digests(directory)  # a large recording's worker reads meanwhile
                if database_url is None:
                    create_fresh(engine)  # the throwaway store: no migrations to run
                else:
                    upgrade(engine)
                results.append(
                    await replay_recording(
                        directory,
                        settings,
                        engine,
                        latency_ms=latency,
                        fair_values=fair_values,
                        run_id=f"backtest-{latency}ms",
                        source=source,
                        sole_writer=database_url is None,
                    )
                )
            finally:
                if source is not None:
                    source.close()
                engine.dispose()
    return results


def sweep_rows(results: Sequence[BacktestResult]) -> list[dict[str, str]]:
    """One row per latency: how much of the edge survived it."""
    rows = []
    for r in results:
        seen = r.edge_seen
        kept = (r.edge_filled / seen * 100).quantize(Decimal("0.1")) if seen else Decimal(0)
        rows.append(
            {
                "latency_ms": str(r.latency_ms),
                "opportunities": str(len(r.opportunities)),
                "filled": str(r.count("filled")),
                "missed": str(r.count("missed")),
                "rejected": str(r.count("rejected")),
                "edge_seen": decimal_text(seen),
                "edge_filled": decimal_text(r.edge_filled),
                "edge_kept_pct": decimal_text(kept),
                "fees": decimal_text(r.fees),
                "realized_pnl": decimal_text(r.realized_pnl),
                "unrealized_pnl": decimal_text(r.unrealized_pnl),
                "equity_end": decimal_text(r.equity_end),
            }
        )
    return rows


def sweep_json(results: Sequence[BacktestResult]) -> dict[str, Any]:
    """One result: its JSON; several: ``{"sweep": [rows], "runs": [each JSON]}``."""
    if len(results) == 1:
        return results[0].to_json()
    return {"sweep": sweep_rows(results), "runs": [r.to_json() for r in results]}
