"""Reading a recording's messages: chunked parsing and the run-wise merge give exactly what a
line-by-line ``heapq.merge`` keyed by (timestamp, file, line) gives; bad lines are named; the
digest (in this process or a worker's) numbers tokens and passes other messages whole."""

from __future__ import annotations

import heapq
import json
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pm_lib.replay import stream
from pm_lib.replay.digest import AHEAD_BYTES, _Outbox, digests
from pm_lib.replay.stream import messages
from pm_lib.replay.wire import BadRecording


def _write(directory: Path, files: list[list[str]]) -> Path:
    folder = directory / "market"
    folder.mkdir(parents=True)
    for index, lines in enumerate(files):
        (folder / f"{index:06d}.jsonl").write_text("".join(line + "\n" for line in lines))
    return directory


def _change(ts: int, token: str, price: str = "0.5", size: str = "10") -> str:
    return json.dumps(
        {
            "event_type": "price_change",
            "market": "m-" + token,
            "timestamp": str(ts),
            "price_changes": [{"asset_id": token, "price": price, "size": size, "side": "BUY"}],
        }
    )


def _expected(directory: Path) -> list[tuple[int, dict[str, Any]]]:
    def one(index: int, path: Path) -> list[tuple[int, int, int, dict[str, Any]]]:
        rows = []
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                message = json.loads(line)
                rows.append((int(message["timestamp"]), index, number, message))
        return rows

    files = sorted((directory / "market").iterdir())
    merged = heapq.merge(*(one(i, p) for i, p in enumerate(files)))
    return [(stamp, message) for stamp, _, _, message in merged]


@pytest.mark.parametrize("chunk", [64, 300, 1 << 16])
def test_the_merge_is_heapq_merge_by_time_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(stream, "CHUNK", chunk)
    rng = random.Random(7)
    files = []
    for f in range(4):
        stamps = sorted(rng.randrange(0, 40) for _ in range(60))
        files.append([_change(ts, f"{f}-{i}") for i, ts in enumerate(stamps)])
    files.append([_change(ts, f"u-{ts}") for ts in (5, 3, 9, 1, 30, 2)])  # out of order
    files.append([])
    directory = _write(tmp_path, files)
    assert list(messages(directory)) == _expected(directory)


def test_blank_lines_are_skipped_and_a_bad_line_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "CHUNK", 128)
    good = [_change(1, "a"), "", _change(2, "b"), " ", _change(3, "c")]
    directory = _write(tmp_path / "ok", [good])
    assert [m["price_changes"][0]["asset_id"] for _, m in messages(directory)] == ["a", "b", "c"]
    for bad, why in (
        ("{not json", "not a market-channel message"),
        (_change(4, "d") + "," + _change(5, "e"), "not a market-channel message"),
        ('{"event_type": "book"}', "not a market-channel message"),
    ):
        directory = _write(tmp_path / str(len(why) + len(bad)), [[*good, bad, _change(9, "z")]])
        with pytest.raises(BadRecording, match=rf"000000\.jsonl:6: {why}"):
            list(messages(directory))


def _records(directory: Path, worker: bool) -> list[Any]:
    out: list[Any] = []
    for count, fresh, *columns, others in digests(directory, worker=worker):
        out.append((count, fresh, [list(c) for c in columns], others))
    return out


def test_the_worker_digests_what_this_process_digests(tmp_path: Path) -> None:
    lines = [
        json.dumps({"event_type": "book", "asset_id": "a", "market": "m", "timestamp": "1"}),
        _change(1, "a", "0.25", "5"),
        _change(2, "b", "0.5", "0"),
        json.dumps({"event_type": "price_change", "timestamp": "2", "price_changes": []}),
        json.dumps({"event_type": "tick_size_change", "asset_id": "a", "timestamp": 3}),
        _change(3, "a", "0.1234567", "5"),  # more than 6 decimals: passed whole
        _change(4, "c", "0.5", "7"),
    ]
    directory = _write(tmp_path, [lines])
    here = _records(directory, worker=False)
    assert here == _records(directory, worker=True)
    count, fresh, (stamps, tokens, buys, prices, sizes), others = here[0]
    assert count == 7 and fresh == [("a", "m-a"), ("b", "m-b"), ("c", "m-c")]
    assert stamps == [1, 1, 2, 2, 3, 3, 4]
    assert tokens == [-1, 0, 1, -2, -3, -4, 2]
    assert [prices[1], sizes[1], buys[1]] == [250_000, 5_000_000, 1]
    kinds = ["book", "price_change", "tick_size_change", "price_change"]
    assert [o["event_type"] for o in others] == kinds


def test_a_bad_line_read_by_the_worker_fails_the_same_way(tmp_path: Path) -> None:
    directory = _write(tmp_path, [[_change(1, "a"), "{oops", _change(2, "b")]])
    with pytest.raises(BadRecording, match=r"000000\.jsonl:2: not a market-channel message"):
        _records(directory, worker=True)


def test_the_worker_outbox_keeps_order_and_waits_for_a_slow_reader() -> None:
    """Frames sent while the pipe is full wait in the outbox (up to ``AHEAD_BYTES``, then the
    sender waits) and reach the reader whole and in order."""
    read_end, write_end = os.pipe()
    frames = [bytes([i % 251]) * (300_000 + i) for i in range(48)]  # ~14 MB > pipe + outbox
    got = bytearray()

    def slow_reader() -> None:
        with os.fdopen(read_end, "rb") as source:
            while chunk := source.read(1 << 16):
                got.extend(chunk)
                time.sleep(0.0005)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    out = _Outbox(write_end)
    for frame in frames:
        out.send(frame)
        assert out.bytes <= AHEAD_BYTES
    out.close()
    os.close(write_end)
    reader.join(timeout=30)
    assert bytes(got) == b"".join(frames)
