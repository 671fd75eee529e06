"""Reading a recording's messages: every file streamed in chunks, merged by ``timestamp``.

Nothing is loaded whole: each file is read ``CHUNK`` bytes at a time, and the complete lines of
a chunk are parsed by one ``orjson.loads`` call (its newlines turned into commas inside ``[...]``:
one C call per ~100 messages instead of one Python iteration and call per line). A chunk whose
array does not hold exactly one JSON object with a ``timestamp`` per line (a blank or broken
line, a line holding two objects) is parsed again line by line, which skips blank lines and
fails with ``BadRecording`` naming the file and line of the first bad one. (A corrupt file whose
broken lines happen to splice back into as many well-formed objects as lines would be read as
those objects; a recorder that was cut off mid-line leaves an unterminated string or object,
which cannot.) The ``timestamp`` (ms) is an integer, a number or a digit string.

Files are merged as ``heapq.merge`` would merge their messages keyed by (timestamp, file
index, line): ties keep (file name, line) order, so the same recording always replays the same
way. The merge moves runs of messages, not single ones: from the file whose next message comes
first it takes every following message that still comes before the next message of any other
file (one bisection when the chunk's timestamps are sorted, as a recording's are). Rotated files
do not overlap, so almost every chunk passes through whole.
"""

from __future__ import annotations

import gzip
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson

from pm_lib.replay.wire import BadRecording, message_files

__all__ = ["CHUNK", "Batch", "Message", "batches", "messages"]

CHUNK = 1 << 16
"""Bytes read from a file at a time (64 KiB: ~120 messages; larger chunks parse slower, their
objects no longer fit the CPU's caches)."""

Batch = tuple[list[int], list[dict[str, Any]]]
"""(timestamps in ms, messages): consecutive messages of the replay order."""

Message = tuple[int, dict[str, Any]]
"""(timestamp ms, message): one message, in replay order."""


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))  # closed by _file_batches
    return path.open("rb")


def _lines(path: Path, first: int, body: bytes, last: bool) -> Batch:
    """``body``'s lines one by one (line numbers from ``first``): blank lines skipped, the
    first bad line reported. ``last``: the final line of the file has no newline."""
    stamps: list[int] = []
    found: list[dict[str, Any]] = []
    lines = body.split(b"\n")
    for number, line in enumerate(lines, first):
        # blank: shorter than 3 bytes with its newline, only whitespace
        short = len(line) < (3 if last and number == first + len(lines) - 1 else 2)
        if short and not line.strip():
            continue
        try:
            message = orjson.loads(line)
            stamp = int(message["timestamp"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise BadRecording(
                f"{path}:{number}: not a market-channel message with a timestamp ({e})"
            ) from e
        stamps.append(stamp)
        found.append(message)
    return stamps, found


def _file_batches(path: Path) -> Iterator[Batch]:
    """One file's messages, a chunk's complete lines at a time (never an empty batch)."""
    loads = orjson.loads
    number = 1  # the line number of the next line
    tail = b""
    with _open(path) as handle:
        while True:
            chunk = handle.read(CHUNK)
            last = not chunk
            if last:
                if not tail:
                    return
                body, tail = tail, b""
            else:
                data = tail + chunk if tail else chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    tail = data
                    continue
                body, tail = data[:cut], data[cut + 1 :]
            count = body.count(b"\n") + 1
            try:
                found = loads(b"[" + body.replace(b"\n", b",") + b"]")
                if len(found) != count:
                    raise ValueError("not one object a line")
                stamps = [int(m["timestamp"]) for m in found]
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                stamps, found = _lines(path, number, body, last)
            number += count
            if found:
                yield stamps, found
            if last:
                return


def _is_sorted(stamps: list[int]) -> bool:
    return stamps == sorted(stamps)


def batches(directory: Path) -> Iterator[Batch]:
    """Every message of the recording in ``directory``, in replay order, in runs."""
    # each open file: [timestamps, messages, position, file index, sorted?, the file's rest]
    heads: list[list[Any]] = []
    for index, path in enumerate(message_files(directory)):
        rest = _file_batches(path)
        first = next(rest, None)
        if first is not None:
            heads.append([first[0], first[1], 0, index, None, rest])
    while len(heads) > 1:
        head = min(heads, key=lambda h: (h[0][h[2]], h[3]))
        stamps, found, start, index = head[0], head[1], head[2], head[3]
        limit, other = min((h[0][h[2]], h[3]) for h in heads if h is not head)
        # the run that comes before every other file's next message: (stamp, index) < limit
        if head[4] is None:
            head[4] = _is_sorted(stamps)
        if head[4]:
            bound = bisect_right if index < other else bisect_left
            end = bound(stamps, limit, start)
        else:
            end, size = start + 1, len(stamps)
            while end < size and (stamps[end] < limit or (stamps[end] == limit and index < other)):
                end += 1
        if start == 0 and end == len(stamps):
            yield stamps, found
        else:
            yield stamps[start:end], found[start:end]
        if end < len(stamps):
            head[2] = end
            continue
        following = next(head[5], None)
        if following is None:
            heads.remove(head)
        else:
            head[0], head[1], head[2], head[4] = following[0], following[1], 0, None
    if heads:
        stamps, found, start, _, _, rest = heads[0]
        yield (stamps[start:], found[start:]) if start else (stamps, found)
        yield from rest


def messages(directory: Path) -> Iterator[Message]:
    """Every message of the recording in ``directory``, one at a time, in replay order."""
    for stamps, found in batches(directory):
        yield from zip(stamps, found, strict=True)
