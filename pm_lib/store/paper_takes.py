"""What paper orders took from the venue's book levels, remembered across runs (``paper_take``).

``pm_lib.execution.liquidity`` subtracts a remembered take from a later book only while that
book's level still shows the size it showed when taken from (the level has not moved since).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pm_lib.models import Side
from pm_lib.store.tables import PaperTake

__all__ = ["LevelTakes", "recalled_takes", "remember_takes"]

_TAKE = PaperTake.__table__  # type: ignore[attr-defined]

LevelTakes = Mapping[Decimal, tuple[Decimal, Decimal]]
"""price -> (the level's size on the venue's book when taken from, shares taken from it)."""


def recalled_takes(
    session: Session, token_id: str, side: Side
) -> dict[Decimal, tuple[Decimal, Decimal]]:
    """The remembered takes of orders on ``side`` from ``token_id``'s book."""
    rows = session.execute(
        select(_TAKE.c.price, _TAKE.c.level_size, _TAKE.c.taken).where(
            _TAKE.c.token_id == token_id, _TAKE.c.side == str(side)
        )
    )
    return {r.price: (r.level_size, r.taken) for r in rows}


def remember_takes(
    session: Session, token_id: str, side: Side, takes: LevelTakes, at: datetime
) -> None:
    """Replace what is remembered for ``token_id``/``side`` with ``takes``."""
    session.execute(delete(_TAKE).where(_TAKE.c.token_id == token_id, _TAKE.c.side == str(side)))
    rows = [
        {
            "token_id": token_id,
            "side": str(side),
            "price": price,
            "level_size": level_size,
            "taken": taken,
            "updated_at": at,
        }
        for price, (level_size, taken) in takes.items()
        if taken > 0
    ]
    if rows:
        session.execute(_TAKE.insert(), rows)
