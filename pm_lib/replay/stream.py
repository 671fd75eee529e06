"""Reading a recording's messages: every file streamed line by line, merged by ``timestamp``.

Nothing is loaded whole: each file is an open iterator and ``heapq.merge`` keeps one pending
message per file. Ties keep (file name, line) order, so the same recording always replays the
same way. Lines are parsed with orjson; a line that is not a JSON object with an integer
``timestamp`` (ms, a number or a digit string) fails with ``BadRecording`` naming file and line.
"""

from __future__ import annotations

import gzip
import heapq
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson

from pm_lib.replay.recording import BadRecording, message_files

__all__ = ["Message", "messages"]

Message = tuple[int, int, int, dict[str, Any]]
"""(timestamp ms, file index, line number, message): sorted, the replay order."""


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))  # closed by _file_messages
    return path.open("rb")


def _file_messages(index: int, path: Path) -> Iterator[Message]:
    loads = orjson.loads
    with _open(path) as handle:
        for number, line in enumerate(handle, 1):
            if len(line) < 3 and not line.strip():
                continue
            try:
                message = loads(line)
                stamp = int(message["timestamp"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise BadRecording(
                    f"{path}:{number}: not a market-channel message with a timestamp ({e})"
                ) from e
            yield stamp, index, number, message


def messages(directory: Path) -> Iterator[Message]:
    """Every message of the recording in ``directory``, in replay order."""
    files = message_files(directory)
    return heapq.merge(*(_file_messages(i, p) for i, p in enumerate(files)))
