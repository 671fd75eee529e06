"""A recording's messages digested to integers, read in a second process when it pays.

The replay's books need, per ``price_change`` change, four things: the token, the side, the
price and the size (micro-units). ``Digester`` turns merged messages (``stream.batches``: the
JSON lines parsed by orjson, merged by time) into those, as parallel integer columns: for
every change a record (timestamp, token number, buy, price, size). Tokens are numbered in order
of first sight; each batch names its new tokens (with the ``market`` of the message that showed
them first). Every other message (``book``, ``tick_size_change``, ``last_trade_price``, unknown
kinds, a ``price_change`` with no change) and every ``price_change`` the digest cannot read (a
missing field, a bad amount) is passed whole as a record with token ``~k`` (``others[k]``): the
books apply it as before, and fail on it, if they do, at the same point of the replay.

Reading and digesting are half of a replay's work and need nothing from the replay, so a large
recording (``WORKER_MIN_BYTES``) is read by a worker process (``python -m
pm_lib.replay.digest DIR``, importing only this module, ``stream`` and ``wire``) that streams
digested batches through a pipe, while the replay applies them and runs the scan's stages on
the other core. The replay reads in bursts (it stops to decide), so the worker keeps digests
ready without blocking on the pipe: the pipe is enlarged (``PIPE_BYTES``) and frames wait in
the worker's outbox (``AHEAD_BYTES``) while it is full, the worker reading on meanwhile.
Batches are bounded (``FLUSH_RECORDS``) and so is what waits, so memory stays flat. Small
recordings are digested in the replay's own process, by the same code.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import resource
import select
import subprocess
import sys
import tempfile
from array import array
from collections import deque
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from struct import Struct
from typing import Any, cast

import orjson

from pm_lib.replay.stream import batches
from pm_lib.replay.wire import _CACHE, BadRecording, message_files, micro

__all__ = ["FLUSH_RECORDS", "LAST_WORKER", "WORKER_MIN_BYTES", "Digest", "Digester", "digests"]

WORKER_MIN_BYTES = 16 << 20
"""Message files at least this large (~30,000 messages) are read by a worker process."""

FLUSH_RECORDS = 8192
"""Records per digest (a worker's frame: ~330 KB)."""

PIPE_BYTES = 1 << 20
"""The pipe's size asked for (Linux's default maximum for a user; the default is 64 KiB)."""

AHEAD_BYTES = 8 << 20
"""Frames a worker keeps ready beyond the pipe's (~25 frames, ~200,000 records)."""

Digest = tuple[
    int,  # messages
    list[tuple[Any, str]],  # new tokens (token id, market), numbered in order after the last
    Sequence[int],  # timestamps (ms), one per record
    Sequence[int],  # token numbers; ~k: the message others[k]
    Sequence[int],  # 1 buy (bids), 0 sell (asks)
    Sequence[int],  # prices (micro)
    Sequence[int],  # sizes (micro)
    list[dict[str, Any]],  # messages passed whole
]


class Digester:
    """Turns merged message batches into digests (numbering tokens across them)."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self._reset()

    def _reset(self) -> None:
        self.messages = 0
        self.fresh: list[tuple[Any, str]] = []
        self.flat: list[int] = []  # the records' five columns, interleaved
        self.others: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.flat) // 5

    def add(self, stamps: list[int], messages: list[dict[str, Any]]) -> None:
        """Digest one batch of merged messages onto the pending digest (new tokens numbered in
        order of first sight)."""
        ids, fresh, cache, flat, others = self.ids, self.fresh, _CACHE, self.flat, self.others
        put = flat.extend
        self.messages += len(messages)
        for stamp, message in zip(stamps, messages, strict=True):
            changes = None
            if message.get("event_type") == "price_change":
                changes = message.get("price_changes")
            if changes:
                mark = len(flat)
                try:
                    for change in changes:
                        token = change["asset_id"]
                        number = ids.get(token)
                        if number is None:
                            number = ids[token] = len(ids)
                            fresh.append((token, message.get("market", "")))
                        text = change["price"]
                        price = cache.get(text)
                        if price is None:
                            price = micro(text)
                        text = change["size"]
                        size = cache.get(text)
                        if size is None:
                            size = micro(text)
                        put((stamp, number, change["side"] == "BUY", price, size))
                    continue
                except Exception:  # the books apply it whole, and fail there
                    del flat[mark:]
            put((stamp, ~len(others), 0, 0, 0))
            others.append(message)

    def take(self) -> Digest:
        """The pending digest (and a new one started)."""
        flat = self.flat
        digest = (
            self.messages,
            self.fresh,
            flat[0::5],
            flat[1::5],
            flat[2::5],
            flat[3::5],
            flat[4::5],
            self.others,
        )
        self._reset()
        return digest


def _digested(
    directory: Path, between: Callable[[], object] | None = None
) -> Generator[Digest, None, None]:
    """The recording's digests, made here (``between``: called after every batch that did not
    complete a digest)."""
    digester = Digester()
    for stamps, found in batches(directory):
        digester.add(stamps, found)
        if len(digester) >= FLUSH_RECORDS:
            yield digester.take()
        elif between is not None:
            between()
    if digester.messages:
        yield digester.take()


# --- the worker process and its frames ----------------------------------------------------------
# A frame: a header (kind, messages, records, bytes of names, bytes of others), then the five
# columns as int64, then the new tokens and the messages passed whole as JSON. Kind b"D": a
# digest; b"F": the recording is bad (the text follows as the names); b"E": the end (with the
# worker's peak RSS in KiB and CPU time in ms in place of messages and records).

LAST_WORKER: dict[str, float] = {}
"""The last worker's peak RSS (``peak_rss_kb``) and CPU time (``cpu_s``), as it reported them
at its end (a benchmark's figures; a parent's view of a child's peak RSS includes the parent's
own pages at the fork)."""

_HEAD = Struct("<cQQQQ")


def _frame(digest: Digest) -> bytes:
    messages, fresh, *columns, others = digest
    names = orjson.dumps(fresh)
    passed = orjson.dumps(others) if others else b""
    return b"".join(
        [
            _HEAD.pack(b"D", messages, len(columns[0]), len(names), len(passed)),
            *(array("q", column).tobytes() for column in columns),
            names,
            passed,
        ]
    )


class _Outbox:
    """The worker's end of the pipe, written without blocking the digest: frames wait here
    (at most ``AHEAD_BYTES``) while the pipe is full, and go out whenever it has room (after
    every batch read), so the worker keeps reading while the replay is busy deciding."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending: deque[memoryview] = deque()
        self.bytes = 0
        os.set_blocking(fd, False)

    def send(self, frame: bytes) -> None:
        self.pending.append(memoryview(frame))
        self.bytes += len(frame)
        self.pump()
        while self.bytes > AHEAD_BYTES:  # the replay is far behind: wait for it
            select.select([], [self.fd], [])
            self.pump()

    def pump(self) -> None:
        pending = self.pending
        while pending:
            head = pending[0]
            try:
                sent = os.write(self.fd, head)
            except BlockingIOError:
                return
            self.bytes -= sent
            if sent == len(head):
                pending.popleft()
            else:
                pending[0] = head[sent:]

    def close(self) -> None:
        while self.pending:
            select.select([], [self.fd], [])
            self.pump()


def _work(directory: Path, fd: int) -> None:
    _deepen(fd)
    out = _Outbox(fd)
    try:
        for digest in _digested(directory, out.pump):
            out.send(_frame(digest))
    except BadRecording as e:
        text = str(e).encode()
        out.send(_HEAD.pack(b"F", 0, 0, len(text), 0) + text)
    else:
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu_ms = round((used.ru_utime + used.ru_stime) * 1000)
        out.send(_HEAD.pack(b"E", _peak_rss_kb(used.ru_maxrss), cpu_ms, 0, 0))
    out.close()


def _peak_rss_kb(fallback: int) -> int:
    """This process's peak RSS since its exec (``ru_maxrss`` keeps the parent's at the fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return fallback


def _deepen(fd: int) -> None:
    """Make the pipe on ``fd`` hold ``PIPE_BYTES`` (Linux; elsewhere it keeps its size)."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _from_worker(directory: Path) -> Generator[Digest | None, None, None]:
    """The recording's digests, made by a worker process (ended when this generator is). It
    first yields ``None`` once the worker is started (``digests`` takes it)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryFile() as errors:
        try:
            worker = subprocess.Popen(  # this interpreter, this module
                [sys.executable, "-m", "pm_lib.replay.digest", str(directory)],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
                bufsize=1 << 20,
            )
        except OSError:  # no process to be had: digested here
            yield None
            yield from _digested(directory)
            return
        assert worker.stdout is not None
        source = worker.stdout
        try:
            yield None  # started: the worker reads while the caller gets ready
            while True:
                head = source.read(_HEAD.size)
                if len(head) != _HEAD.size:
                    break
                kind, messages, records, names, passed = _HEAD.unpack(head)
                if kind == b"E":
                    LAST_WORKER.update(peak_rss_kb=messages, cpu_s=records / 1000)
                    return
                body = source.read(40 * records + names + passed)
                if kind == b"F":
                    raise BadRecording(body.decode())
                if len(body) != 40 * records + names + passed:
                    break
                columns = []
                for i in range(5):
                    column = array("q")
                    column.frombytes(body[8 * records * i : 8 * records * (i + 1)])
                    columns.append(column)
                start = 40 * records
                fresh = [
                    (token, market) for token, market in orjson.loads(body[start : start + names])
                ]
                others = orjson.loads(body[start + names :]) if passed else []
                yield (messages, fresh, *columns, others)
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
        errors.seek(0)
        said = errors.read().decode(errors="replace").strip().splitlines()
        raise RuntimeError(
            f"the replay's digest worker stopped (exit {worker.returncode}): "
            + (said[-1] if said else "no message")
        )


def digests(directory: Path, *, worker: bool | None = None) -> Generator[Digest, None, None]:
    """The recording in ``directory`` as digests, in replay order. ``worker``: read in a worker
    process (``None``: when the message files hold at least ``WORKER_MIN_BYTES``), started
    now, so that it reads while the caller gets ready (close the generator to end it)."""
    if worker is None:
        try:
            worker = sum(p.stat().st_size for p in message_files(directory)) >= WORKER_MIN_BYTES
        except BadRecording:  # it fails when read, after the catalogue's own checks
            worker = False
    if not worker:
        return _digested(directory)
    started = _from_worker(directory)
    next(started)
    return cast(Generator[Digest, None, None], started)


if __name__ == "__main__":
    gc.disable()  # parsed messages hold no cycles: reference counting frees them
    _work(Path(sys.argv[1]), sys.stdout.fileno())
