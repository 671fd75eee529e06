"""Resolutions of the markets an account holds: read from Gamma, stored once.

Only markets with an open position and no stored resolution are asked about (a resolution is
final). A malformed resolution row is skipped with its reason and asked about again next time:
a payout is never guessed (``pm_lib.venue.wire.parse_gamma_resolution``).
"""

from __future__ import annotations

import logging
from datetime import datetime

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pm_lib.models import ZERO, MarketResolution, SkippedItem
from pm_lib.portfolio.ledger import replay
from pm_lib.settings import Settings
from pm_lib.store.engine import session_scope
from pm_lib.store.rows import Mode
from pm_lib.store.settlement import market_resolutions, save_resolutions
from pm_lib.store.trades import fills
from pm_lib.venue.gamma import fetch_resolutions

__all__ = ["held_unresolved", "refresh_resolutions"]

logger = logging.getLogger(__name__)


def held_unresolved(session: Session, mode: Mode) -> list[str]:
    """Condition ids of the markets ``mode`` holds shares in and knows no resolution of."""
    held = {
        p.condition_id for p in replay(fills(session, mode)).positions.values() if p.size != ZERO
    }
    known = market_resolutions(session, held)
    return sorted(held - set(known))


async def refresh_resolutions(
    client: httpx.AsyncClient, engine: Engine, settings: Settings, mode: Mode, now: datetime
) -> tuple[list[MarketResolution], list[SkippedItem]]:
    """Ask Gamma how the held, unresolved markets resolved; store the new resolutions.
    Returns them and the rows skipped as malformed."""
    with session_scope(engine) as session:
        wanted = held_unresolved(session, mode)
    if not wanted:
        return [], []
    found, skipped = await fetch_resolutions(client, settings, wanted)
    with session_scope(engine) as session:
        save_resolutions(session, found, settings.gamma_url, now)
    logger.info("resolutions: %d of %d held markets resolved", len(found), len(wanted))
    return found, skipped
