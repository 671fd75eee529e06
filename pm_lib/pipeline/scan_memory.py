"""A scan builds its bulk data with CPython's cyclic garbage collector paused.

A full-universe scan allocates millions of long-lived, acyclic objects (books and their levels:
~30 tracked objects a book, ~3 M for 50,000 markets). Each allocation burst triggers the cyclic
collector, and its full passes walk every tracked object in the process: measured on 10,000
markets, 4 full passes a run cost 1.4 s of a 3.5 s scan (docs/PERFORMANCE.md). None of that data
needs the cyclic collector (reference counting frees it when the run drops it), so a run pauses
the collector and turns it back on when it ends; cyclic garbage made meanwhile (by Prefect,
httpx, asyncio) is collected then. Runs may nest or overlap in one process: the collector comes
back on when the last one ends, and only if it was on before the first began.

The command line pauses it the same way while a ``pm-agent`` process starts (its imports build
long-lived objects and no cycles either) and, for the read-only commands, until they exit
(``pm_lib.cli``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["cyclic_gc_paused"]


class _Pauses:
    """How many runs of this process are inside ``cyclic_gc_paused``, and the state before."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = False


_PAUSES = _Pauses()


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block (reference counting still frees)."""
    with _PAUSES.lock:
        if _PAUSES.depth == 0:
            _PAUSES.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSES.depth += 1
    try:
        yield
    finally:
        with _PAUSES.lock:
            _PAUSES.depth -= 1
            if _PAUSES.depth == 0 and _PAUSES.was_enabled:
                gc.enable()
