"""Gamma keyset listings: filters, ordering and opaque cursors tied to the query.

Live behaviour reproduced (docs/VENUE.md 4.1): ``limit`` at most 100 (else 422); ``after_cursor``
is the previous page's ``next_cursor`` and is only valid for the same filters and order (re-send
every filter on each page); ``offset`` is refused with 422 and a pointer to keyset paging; no
``next_cursor`` on the last page; ``order`` takes camelCase field names (invalid -> 422
"order fields are not valid"). Repeated and comma-separated list parameters are both accepted.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

import orjson
from starlette.datastructures import QueryParams

from pm_lib.sim.state import SimEvent, SimMarket

__all__ = [
    "KeysetPage",
    "QueryError",
    "event_query",
    "keyset_page",
    "market_query",
]

T = TypeVar("T")
MAX_LIMIT = 100
DEFAULT_LIMIT = 20


class QueryError(ValueError):
    """A request Gamma answers with HTTP 422 ``{"type": "validation error", "error": ...}``."""


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page of items and the cursor of the next page (``None`` on the last page)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Query(Generic[T]):
    """A parsed listing query: predicate, sort key and the fingerprint cursors are tied to."""

    limit: int
    predicate: Callable[[T], bool]
    sort_key: Callable[[T], tuple[Any, ...]]
    order: str
    ascending: bool
    fingerprint: str
    candidates: list[T] | None  # set by id/slug/token filters: no full scan needed


def _values(params: QueryParams, name: str) -> list[str]:
    out: list[str] = []
    for raw in params.getlist(name) + params.getlist(f"{name}[]"):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def _flag(params: QueryParams, name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise QueryError(f"invalid boolean for {name}")


def _number(params: QueryParams, name: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation as e:
        raise QueryError(f"invalid number for {name}") from e


def _date(params: QueryParams, name: str) -> float | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()
    except ValueError as e:
        raise QueryError(f"invalid date for {name}") from e


def _common(params: QueryParams, listing: str) -> tuple[int, str, bool]:
    if "offset" in params:
        raise QueryError(f"offset too large, use /{listing}/keyset for deeper pagination")
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError as e:
        raise QueryError("invalid limit") from e
    if limit < 1 or limit > MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    ascending = _flag(params, "ascending")
    return limit, params.get("order", "id"), True if ascending is None else ascending


def _fingerprint(params: QueryParams) -> str:
    items = sorted((k, v) for k, v in params.multi_items() if k not in ("after_cursor", "limit"))
    return hashlib.sha1(orjson.dumps(items)).hexdigest()[:12]


def _id_number(value: str) -> int:
    return int(value) if value.isdigit() else -1


def _market_order(order: str) -> Callable[[SimMarket], tuple[Any, ...]]:
    fields: dict[str, Callable[[SimMarket], Any]] = {
        "id": lambda m: _id_number(m.market_id),
        "volumeNum": lambda m: m.volume,
        "volume": lambda m: m.volume,
        "liquidityNum": lambda m: m.liquidity,
        "liquidity": lambda m: m.liquidity,
        "endDate": lambda m: m.end_date.timestamp() if m.end_date else 0.0,
        "slug": lambda m: m.slug,
        "updatedAt": lambda m: m.updated_at,
    }
    getter = fields.get(order)
    if getter is None:
        raise QueryError("order fields are not valid")
    return lambda m: (getter(m), _id_number(m.market_id), m.market_id)


def market_query(
    params: QueryParams,
    by_token: Callable[[str], SimMarket | None],
    by_id: dict[str, SimMarket],
    by_slug: dict[str, SimMarket],
    by_condition: dict[str, SimMarket],
    question_of: Callable[[SimMarket], str],
) -> Query[SimMarket]:
    """Parse ``/markets/keyset`` parameters into a query (``question_of``: a market's
    questionID, for the ``question_ids`` filter)."""
    limit, order, ascending = _common(params, "markets")
    closed, active = _flag(params, "closed"), _flag(params, "active")
    archived, neg_risk = _flag(params, "archived"), _flag(params, "neg_risk")
    accepting = _flag(params, "accepting_orders")
    questions = set(_values(params, "question_ids"))
    vol_min, vol_max = _number(params, "volume_num_min"), _number(params, "volume_num_max")
    liq_min, liq_max = _number(params, "liquidity_num_min"), _number(params, "liquidity_num_max")
    end_min, end_max = _date(params, "end_date_min"), _date(params, "end_date_max")
    candidates: list[SimMarket] | None = None
    picks: list[Iterable[SimMarket | None]] = []
    if ids := _values(params, "id"):
        picks.append(by_id.get(i) for i in ids)
    if slugs := _values(params, "slug"):
        picks.append(by_slug.get(s) for s in slugs)
    if conds := _values(params, "condition_ids"):
        picks.append(by_condition.get(c) for c in conds)
    if tokens := _values(params, "clob_token_ids"):
        picks.append(by_token(t) for t in tokens)
    if picks:
        sets = [{id(m): m for m in pick if m is not None} for pick in picks]
        common = set.intersection(*(set(s) for s in sets))
        candidates = [m for k, m in sets[0].items() if k in common]

    def predicate(m: SimMarket) -> bool:
        end = m.end_date.timestamp() if m.end_date else None
        return (
            (closed is None or m.closed == closed)
            and (active is None or m.active == active)
            and (archived is None or archived is False)
            and (neg_risk is None or m.neg_risk == neg_risk)
            and (accepting is None or m.accepting_orders == accepting)
            and (not questions or question_of(m) in questions)
            and (vol_min is None or m.volume >= vol_min)
            and (vol_max is None or m.volume <= vol_max)
            and (liq_min is None or m.liquidity >= liq_min)
            and (liq_max is None or m.liquidity <= liq_max)
            and (end_min is None or (end is not None and end >= end_min))
            and (end_max is None or (end is not None and end <= end_max))
        )

    return Query(
        limit, predicate, _market_order(order), order, ascending, _fingerprint(params), candidates
    )


def event_query(
    params: QueryParams,
    by_id: dict[str, SimEvent],
    by_slug: dict[str, SimEvent],
    markets_of: Callable[[SimEvent], list[SimMarket]],
) -> Query[SimEvent]:
    """Parse ``/events/keyset`` parameters into a query."""
    limit, order, ascending = _common(params, "events")
    closed, active = _flag(params, "closed"), _flag(params, "active")
    archived, neg_risk = _flag(params, "archived"), _flag(params, "neg_risk")
    end_min, end_max = _date(params, "end_date_min"), _date(params, "end_date_max")
    fields: dict[str, Callable[[SimEvent], Any]] = {
        "id": lambda e: _id_number(e.event_id),
        "volume": lambda e: sum((m.volume for m in markets_of(e)), Decimal(0)),
        "liquidity": lambda e: sum((m.liquidity for m in markets_of(e)), Decimal(0)),
        "slug": lambda e: e.slug,
        "updatedAt": lambda e: e.updated_at,
    }
    getter = fields.get(order)
    if getter is None:
        raise QueryError("order fields are not valid")
    candidates: list[SimEvent] | None = None
    picks: list[SimEvent] = []
    if ids := _values(params, "id"):
        picks.extend(e for e in (by_id.get(i) for i in ids) if e is not None)
        candidates = picks
    if slugs := _values(params, "slug"):
        wanted = {s for s in slugs}
        base = candidates if candidates is not None else list(by_slug.values())
        candidates = [e for e in base if e.slug in wanted]

    def predicate(e: SimEvent) -> bool:
        markets = markets_of(e) if (active is not None or end_min or end_max) else []
        end = max((m.end_date.timestamp() for m in markets if m.end_date), default=None)
        return (
            (closed is None or e.closed == closed)
            and (active is None or any(m.active for m in markets) == active)
            and (archived is None or archived is False)
            and (neg_risk is None or e.neg_risk == neg_risk)
            and (end_min is None or (end is not None and end >= end_min))
            and (end_max is None or (end is not None and end <= end_max))
        )

    def sort_key(e: SimEvent) -> tuple[Any, ...]:
        return (getter(e), _id_number(e.event_id), e.event_id)

    return Query(limit, predicate, sort_key, order, ascending, _fingerprint(params), candidates)


def _encode_cursor(fingerprint: str, key: tuple[Any, ...]) -> str:
    raw = orjson.dumps({"q": fingerprint, "k": [str(x) for x in key]})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> list[str]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        keys = raw["k"]
        ok = raw["q"] == fingerprint and isinstance(keys, list)
    except (ValueError, KeyError, TypeError) as e:
        raise QueryError("invalid after_cursor") from e
    if not ok:
        raise QueryError("after_cursor does not belong to this query")
    return [str(k) for k in keys]


class SortedView(Generic[T]):
    """Items sorted by a query's key (cached by the caller per order and catalogue version)."""

    def __init__(self, items: Sequence[T], key: Callable[[T], tuple[Any, ...]], ascending: bool):
        self.items = sorted(items, key=key, reverse=not ascending)
        self.keys = [_comparable(key(x), ascending) for x in self.items]
        self.key = key
        self.ascending = ascending


def _comparable(key: tuple[Any, ...], ascending: bool) -> tuple[Any, ...]:
    # Cursor keys travel as strings; compare them as the values they were (numbers first).
    out: list[Any] = []
    for x in key:
        value = _as_sortable(str(x))
        out.append(value if ascending else _Reverse(value))
    return tuple(out)


def _as_sortable(text: str) -> tuple[int, Any]:
    try:
        return (0, Decimal(text))
    except InvalidOperation:
        return (1, text)


class _Reverse:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reverse) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and bool(self.value == other.value)

    def __hash__(self) -> int:
        return hash(self.value)


def keyset_page(
    query: Query[T], view: SortedView[T] | None, after_cursor: str | None
) -> KeysetPage[T]:
    """The page after ``after_cursor`` (``view`` is the full sorted listing; unused when the
    query names its candidates)."""
    if query.candidates is not None:
        view = SortedView(query.candidates, query.sort_key, query.ascending)
    assert view is not None
    start = 0
    if after_cursor:
        keys = _decode_cursor(after_cursor, query.fingerprint)
        last = tuple(
            _as_sortable(k) if query.ascending else _Reverse(_as_sortable(k)) for k in keys
        )
        start = bisect.bisect_right(view.keys, last)
    page: list[T] = []
    position = start
    total = len(view.items)
    while position < total and len(page) < query.limit:
        item = view.items[position]
        if query.predicate(item):
            page.append(item)
        position += 1
    more = False
    while position < total and not more:  # stops at the first match: one pass per listing
        more = query.predicate(view.items[position])
        position += 1
    cursor = _encode_cursor(query.fingerprint, query.sort_key(page[-1])) if page and more else None
    return KeysetPage(page, cursor)
