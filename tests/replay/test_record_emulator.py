"""Issue 19 done-when: record on the emulator, then replay that recording, gives the same
opportunities as the live paper scans saw at L = 0.

The emulator of ``tests.execution.emulator`` (a neg-risk basket at 0.93, a binary market) is
recorded (``pm-agent record``'s code, ``POST /books`` snapshots) and scanned by the product's
scan (paper), three rounds; between rounds the ``/_sim`` control API moves the books (the basket
deepens, then closes). The replay of the recording at L = 0 proposes the same opportunities
(strategy, market, legs, edge) at each round.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from pm_lib.models import Opportunity
from pm_lib.replay.engine import replay_recording
from pm_lib.replay.recorder import record
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.store import make_engine, upgrade
from tests.execution.emulator import NEG_RISK, control, make_venue
from tests.reliability.scan import open_context, run_scan


@pytest.fixture
def venue() -> Iterator[RunningVenue]:
    with running_venue(make_venue()) as running:
        yield running


def settings_for(venue: RunningVenue, url: str, tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="paper",
        clob_url=venue.clob_url,
        gamma_url=venue.gamma_url,
        database_url=url,
        data_dir=tmp_path,
        http_timeout_seconds=3.0,
        strategies=["complement_arbitrage", "negrisk_arbitrage"],
    )


def shape(o: Opportunity) -> tuple[str, str, str, tuple[tuple[str, str, str, str], ...]]:
    legs = tuple((g.token_id, g.side.value, str(g.size), str(g.limit_price)) for g in o.legs)
    return (o.strategy, o.market, str(o.edge), legs)


def test_replay_at_zero_latency_sees_what_the_live_paper_scans_saw(
    venue: RunningVenue, tmp_path: Path
) -> None:
    live_url = f"sqlite:///{tmp_path / 'live.db'}"
    live = settings_for(venue, live_url, tmp_path)
    engine = make_engine(live_url)
    upgrade(engine)
    recording = tmp_path / "rec"
    moves = [
        None,
        {"token_id": NEG_RISK[0][1], "bids": [["0.28", "50"]], "asks": [["0.30", "80"]]},
        {"token_id": NEG_RISK[0][1], "bids": [["0.28", "50"]], "asks": [["0.45", "80"]]},
    ]
    seen: list[list[tuple]] = []  # type: ignore[type-arg]
    for index, move in enumerate(moves):
        if move is not None:
            control(venue, "POST", "/book", move)
        asyncio.run(record(live, recording / f"part{index}", snapshots=1))
        outcome = run_scan(open_context(live, engine, live=False))
        seen.append(sorted(shape(o) for o in outcome.report.opportunities))
    # one recording from the three: markets.json of the first, the message files in order
    merged = recording / "all"
    (merged / "market").mkdir(parents=True)
    (merged / "markets.json").write_text((recording / "part0" / "markets.json").read_text())
    for index in range(len(moves)):
        for path in sorted((recording / f"part{index}" / "market").iterdir()):
            (merged / "market" / f"{index}-{path.name}").write_bytes(path.read_bytes())
    assert json.loads((merged / "markets.json").read_text())  # Gamma rows, as sent
    assert seen[0] and seen[1] and not seen[2]  # the basket, deeper, then gone

    replay_url = f"sqlite:///{tmp_path / 'replay.db'}"
    replay_engine = make_engine(replay_url)
    upgrade(replay_engine)
    result = asyncio.run(
        replay_recording(merged, settings_for(venue, replay_url, tmp_path), replay_engine)
    )
    by_time: dict[int, list[str]] = {}
    for o in result.opportunities:
        by_time.setdefault(o.ts_ms, []).append(o.id)
    replayed = [sorted(set(ids)) for _, ids in sorted(by_time.items())]
    assert len(replayed) == 2
    # the same opportunities, by what they trade and their edge
    assert [
        sorted((r.strategy, r.market, str(r.edge)) for r in result.opportunities if r.ts_ms == t)
        for t in sorted(by_time)
    ] == [[s[:3] for s in round_] for round_ in seen if round_]
    assert result.fills and result.equity_end > 0
    assert Decimal(result.to_json()["fees"]) >= 0


def test_pm_agent_record_writes_a_replayable_recording(
    venue: RunningVenue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pm_lib.cli import app
    from pm_lib.replay.recording import load_catalogue
    from pm_lib.replay.stream import messages

    monkeypatch.setenv("PM_CLOB_URL", venue.clob_url)
    monkeypatch.setenv("PM_GAMMA_URL", venue.gamma_url)
    monkeypatch.setenv("PM_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "rec"
    args = ["record", str(out), "--duration", "0", "--gzip", "--rotate", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(load_catalogue(out).markets) == 4
    files = sorted((out / "market").iterdir())
    assert len(files) == 3 and all(f.name.endswith(".jsonl.gz") for f in files)  # 8 books
    stream = list(messages(out))
    assert len(stream) == 8 and {m[1]["event_type"] for m in stream} == {"book"}
