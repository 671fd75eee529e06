"""Tables that fit a terminal: light borders, the market column takes the spare width, every
cell wraps (folds) instead of being cut to ``…`` when the terminal is narrow."""

from __future__ import annotations

from rich import box
from rich.table import Table

__all__ = ["compact_table"]

_WIDE = frozenset({"market", "reason", "legs"})


def compact_table(title: str | None, *columns: str) -> Table:
    """A table with ``columns``; ``market`` (and other text columns) wrap, numbers align right."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for name in columns:
        if name in _WIDE:
            table.add_column(name, ratio=1, min_width=20, overflow="fold")
        else:
            numeric = name not in ("created (UTC)", "status", "order", "strategy", "decision")
            table.add_column(name, overflow="fold", justify="right" if numeric else "left")
    return table
