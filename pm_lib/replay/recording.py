"""The recording format (docs/RECORDING.md): a directory other tools may write too.

- ``markets.json``: a JSON list of Gamma ``/markets`` rows as they were when recording started;
- ``market/*.jsonl`` or ``*.jsonl.gz``: the venue's WebSocket market-channel messages, one JSON
  object a line, in ``timestamp`` (ms) order within each file; files are merged by timestamp;
- ``resolutions.json`` (optional): Gamma rows of the markets that resolved (``closed: true``,
  final ``outcomePrices``); each held share pays its outcome's final price.

This module reads the catalogue and the resolutions; ``pm_lib.replay.stream`` reads messages.
A recording that cannot be used fails with ``BadRecording`` naming the file and what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pm_lib.errors import BadVenueData
from pm_lib.models import Catalogue, Event, Market
from pm_lib.replay.wire import (
    MARKETS_FILE,
    MESSAGES_DIR,
    RESOLUTIONS_FILE,
    BadRecording,
    message_files,
)
from pm_lib.venue.wire_gamma import is_open_order_book_market, parse_gamma_market

__all__ = [
    "MARKETS_FILE",
    "MESSAGES_DIR",
    "RESOLUTIONS_FILE",
    "BadRecording",
    "Resolutions",
    "load_catalogue",
    "load_resolutions",
    "message_files",
]


def _json_list(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise BadRecording(f"{path}: missing (a recording needs it)") from e
    except ValueError as e:
        raise BadRecording(f"{path}: not JSON ({e})") from e
    if not isinstance(data, list):
        raise BadRecording(f"{path}: expected a JSON list of Gamma market rows")
    return data


def _decoded(row: Any) -> Any:
    """Gamma sends ``outcomes``/``clobTokenIds``/``outcomePrices`` as JSON-encoded strings;
    other writers may give lists. Both are accepted."""
    if not isinstance(row, Mapping):
        return row
    fixed = dict(row)
    for key in ("outcomes", "clobTokenIds", "outcomePrices"):
        if isinstance(fixed.get(key), list):
            fixed[key] = json.dumps(fixed[key])
    return fixed


def _event_of(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    events = row.get("events")
    if isinstance(events, list) and events and isinstance(events[0], Mapping):
        return events[0]
    return None


def load_catalogue(directory: Path, fetched_at: datetime | None = None) -> Catalogue:
    """The recording's catalogue: its open order-book markets, and its neg-risk events built
    from ``events[0]`` of their rows (an event's members: the recorded markets naming it)."""
    path = directory / MARKETS_FILE
    markets: dict[str, Market] = {}
    event_rows: dict[str, Mapping[str, Any]] = {}
    members: dict[str, list[str]] = {}
    for raw in _json_list(path):
        row = _decoded(raw)
        if not isinstance(row, Mapping) or not is_open_order_book_market(row):
            continue
        try:
            market = parse_gamma_market(row)
        except BadVenueData as e:
            raise BadRecording(f"{path}: market {e.ident}: {e.reason}") from e
        markets.setdefault(market.condition_id, market)
        event = _event_of(row)
        if market.event_id is not None and event is not None:
            event_rows.setdefault(market.event_id, event)
            members.setdefault(market.event_id, []).append(market.condition_id)
    events = tuple(
        Event(
            event_id=event_id,
            title=str(row.get("title", "")),
            slug=str(row.get("slug", "")),
            neg_risk=bool(row.get("negRisk", False)),
            neg_risk_augmented=bool(row.get("negRiskAugmented", False)),
            neg_risk_market_id=row.get("negRiskMarketID") or None,
            market_condition_ids=tuple(members[event_id]),
        )
        for event_id, row in event_rows.items()
        if row.get("negRisk") is True
    )
    return Catalogue(
        markets=tuple(markets.values()),
        events=events,
        fetched_at=fetched_at or datetime.fromtimestamp(0, UTC),
    )


@dataclass(frozen=True)
class Resolutions:
    """What ``resolutions.json`` says: each token's final price, and when each market
    resolved (ms; ``closedTime`` or else ``endDate`` of its row, ``None`` when neither)."""

    prices: dict[str, Decimal] = field(default_factory=dict)
    times: dict[str, int | None] = field(default_factory=dict)  # condition id -> ms
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)  # condition id -> tokens

    def schedule(self) -> list[tuple[int, set[str]]]:
        """(time, tokens) of the markets with a resolution time, in time order (ties by id);
        the rest settle when the replay ends."""
        timed = sorted((t, c) for c, t in self.times.items() if t is not None)
        return [(t, set(self.tokens[c])) for t, c in timed] + [
            (_NEVER, set(self.tokens[c])) for c, t in sorted(self.times.items()) if t is None
        ]


_NEVER = 2**62


def _ms(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace(" ", "T")
    if text.endswith("+00"):
        text += ":00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def load_resolutions(directory: Path) -> Resolutions:
    """The resolved markets of ``resolutions.json`` (none if the file is absent)."""
    path = directory / RESOLUTIONS_FILE
    found = Resolutions()
    if not path.exists():
        return found
    for row in _json_list(path):
        if not isinstance(row, Mapping) or row.get("closed") is not True:
            continue
        condition = str(row.get("conditionId", ""))
        tokens, finals = row.get("clobTokenIds"), row.get("outcomePrices")
        tokens = json.loads(tokens) if isinstance(tokens, str) else tokens
        finals = json.loads(finals) if isinstance(finals, str) else finals
        if not isinstance(tokens, list) or not isinstance(finals, list):
            raise BadRecording(f"{path}: {condition}: needs clobTokenIds and outcomePrices")
        if len(tokens) != len(finals):
            raise BadRecording(f"{path}: {condition}: tokens and prices differ in number")
        for token, final in zip(tokens, finals, strict=True):
            try:
                price = Decimal(str(final))
            except InvalidOperation as e:
                raise BadRecording(f"{path}: outcome price {final!r} is not a number") from e
            if not Decimal(0) <= price <= Decimal(1):
                raise BadRecording(f"{path}: outcome price {final!r} is outside [0, 1]")
            found.prices[str(token)] = price
        found.tokens[condition] = tuple(str(t) for t in tokens)
        found.times[condition] = _ms(row.get("closedTime")) or _ms(row.get("endDate"))
    return found
