"""The market catalogue cache: save a Gamma fetch, load it back, and decide when to refetch.

A full fetch replaces the cached universe: its markets and events are upserted with
``refreshed_at = catalogue.fetched_at``; stored ones it no longer lists are kept (positions may
still reference them) but marked ``closed`` and not accepting orders, and are left out of
``load_catalogue``. An incremental save (``save_catalogue_changes``) upserts what changed
since the last refresh, marks the markets and events that closed since as closed, and records
a refresh of kind ``incremental``; the cached catalogue is then the rows of the last full save
and every later save that are not closed. Rows are written and read in bulk (no ORM objects;
executemany upserts), so a 50,000-market catalogue round-trips quickly.

The cache is keyed to its venue (``catalogue_venue``: the Gamma and CLOB URLs). Each refresh row
records the venue it was fetched from; ``refresh_state`` and ``load_catalogue`` given a venue
see no cache unless the newest refresh came from that venue, so a run on another venue lists
everything (and its full save closes the other venue's rows). Switching back lists again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import Engine, Select, select, update
from sqlalchemy.orm import Session

from pm_lib.models import Catalogue, CatalogueChanges, Event, Market
from pm_lib.store.dialect import conflict_insert
from pm_lib.store.engine import session_scope
from pm_lib.store.tables import CatalogueEvent, CatalogueMarket, CatalogueRefresh

__all__ = [
    "RefreshState",
    "cached_catalogue",
    "catalogue_age",
    "catalogue_venue",
    "load_catalogue",
    "market_rows_for",
    "refresh_state",
    "save_catalogue",
    "save_catalogue_changes",
    "stored_market",
]

_MARKET = CatalogueMarket.__table__  # type: ignore[attr-defined]
_EVENT = CatalogueEvent.__table__  # type: ignore[attr-defined]
_REFRESH = CatalogueRefresh.__table__  # type: ignore[attr-defined]


def catalogue_venue(gamma_url: str, clob_url: str) -> str:
    """The key of the venue a catalogue comes from: its Gamma and CLOB base URLs."""
    return f"{gamma_url.rstrip('/')} {clob_url.rstrip('/')}"


def _market_row(market: Market, refreshed_at: datetime) -> dict[str, Any]:
    return {
        "condition_id": market.condition_id,
        "market_id": market.market_id,
        "question": market.question,
        "slug": market.slug,
        "outcomes": [{"name": o.name, "token_id": o.token_id} for o in market.outcomes],
        "neg_risk": market.neg_risk,
        "neg_risk_market_id": market.neg_risk_market_id,
        "event_id": market.event_id,
        "tick_size": market.tick_size,
        "min_order_size": market.min_order_size,
        "fee_rate": market.fees.rate,
        "fee_exponent": market.fees.exponent,
        "fee_taker_only": market.fees.taker_only,
        "fee_rebate_rate": market.fees.rebate_rate,
        "active": market.active,
        "accepting_orders": market.accepting_orders,
        "closed": market.closed,
        "end_date": market.end_date,
        "version": market.version.value,
        "refreshed_at": refreshed_at,
    }


def _event_row(event: Event, refreshed_at: datetime) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "title": event.title,
        "slug": event.slug,
        "neg_risk": event.neg_risk,
        "neg_risk_augmented": event.neg_risk_augmented,
        "neg_risk_market_id": event.neg_risk_market_id,
        "market_condition_ids": list(event.market_condition_ids),
        "closed": event.closed,
        "refreshed_at": refreshed_at,
    }


def _upsert(session: Session, table: Any, key: str, rows: Sequence[dict[str, Any]]) -> None:
    # One row per key (the last wins): PostgreSQL refuses an upsert touching a row twice, and
    # a paginated fetch can list an item on two pages.
    unique = list({row[key]: row for row in rows}.values())
    if not unique:
        return
    insert = conflict_insert(session, table)
    columns = {c.name: insert.excluded[c.name] for c in table.columns if c.name != key}
    # executemany of one compiled statement: psycopg batches it into multi-row VALUES and
    # sqlite3 loops in C; building a 1,000-row VALUES clause in SQLAlchemy compiles far slower.
    session.execute(insert.on_conflict_do_update(index_elements=[key], set_=columns), unique)


def save_catalogue(
    session: Session,
    catalogue: Catalogue,
    *,
    full: bool = True,
    run_id: str | None = None,
    flow_run_id: str | None = None,
    venue: str | None = None,
) -> None:
    """Upsert ``catalogue``; with ``full`` (a complete fetch) it also becomes the cached universe.

    A full save marks stored markets and events missing from ``catalogue`` as closed and records
    a refresh dated ``catalogue.fetched_at`` (which ``catalogue_age`` measures). A partial save
    (``full=False``) only updates the markets and events it carries.
    """
    at = catalogue.fetched_at
    _upsert_items(session, catalogue)
    if not full:
        return
    session.execute(
        update(_MARKET)
        .where(_MARKET.c.refreshed_at != at, _MARKET.c.closed.is_(False))
        .values(closed=True, accepting_orders=False)
    )
    session.execute(
        update(_EVENT)
        .where(_EVENT.c.refreshed_at != at, _EVENT.c.closed.is_(False))
        .values(closed=True)
    )
    _record_refresh(session, catalogue, "full", run_id, flow_run_id, venue=venue)


def _upsert_items(session: Session, source: Catalogue | CatalogueChanges) -> None:
    at = source.fetched_at
    _upsert(session, _MARKET, "condition_id", [_market_row(m, at) for m in source.markets])
    _upsert(session, _EVENT, "event_id", [_event_row(e, at) for e in source.events])


def _record_refresh(
    session: Session,
    source: Catalogue | CatalogueChanges,
    kind: Literal["full", "incremental"],
    run_id: str | None,
    flow_run_id: str | None,
    removed: int = 0,
    *,
    venue: str | None = None,
) -> None:
    session.execute(
        _REFRESH.insert().values(
            fetched_at=source.fetched_at,
            markets=len(source.markets),
            events=len(source.events),
            skipped=len(source.skipped),
            run_id=run_id,
            flow_run_id=flow_run_id,
            kind=kind,
            watermark=source.watermark,
            removed=removed,
            venue=venue,
        )
    )


_CHUNK = 500  # ids per UPDATE ... WHERE id IN (...), well inside every dialect's limits


def _mark_closed(session: Session, table: Any, key: str, ids: Sequence[str], at: datetime) -> None:
    values: dict[str, Any] = {"closed": True, "refreshed_at": at}
    if table is _MARKET:
        values["accepting_orders"] = False
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        session.execute(update(table).where(table.c[key].in_(chunk)).values(**values))


def save_catalogue_changes(
    session: Session,
    changes: CatalogueChanges,
    *,
    run_id: str | None = None,
    flow_run_id: str | None = None,
    venue: str | None = None,
) -> None:
    """Merge an incremental refresh into the cache and record it (kind ``incremental``).

    Changed markets and events are upserted; the removed ones are kept but marked closed (and
    not accepting orders), so ``load_catalogue`` leaves them out. The refresh row dates the
    cache at ``changes.fetched_at`` and carries the new watermark.
    """
    at = changes.fetched_at
    _upsert_items(session, changes)
    _mark_closed(session, _MARKET, "condition_id", changes.removed_markets, at)
    _mark_closed(session, _EVENT, "event_id", changes.removed_events, at)
    removed = len(changes.removed_markets) + len(changes.removed_events)
    _record_refresh(session, changes, "incremental", run_id, flow_run_id, removed, venue=venue)


@dataclass(frozen=True)
class RefreshState:
    """What the stored refreshes say: when the cache was last refreshed (any kind), from which
    watermark the next incremental refresh lists, and when the last full listing was."""

    refreshed_at: datetime
    kind: Literal["full", "incremental"]
    watermark: datetime | None
    full_at: datetime | None


def refresh_state(session: Session, venue: str | None = None) -> RefreshState | None:
    """The state of the cached catalogue (``None`` when nothing was ever stored, or, with
    ``venue``, when the newest refresh came from another venue)."""
    latest = session.execute(
        select(_REFRESH.c.fetched_at, _REFRESH.c.kind, _REFRESH.c.watermark, _REFRESH.c.venue)
        .order_by(_REFRESH.c.id.desc())
        .limit(1)
    ).one_or_none()
    if latest is None or (venue is not None and latest.venue != venue):
        return None
    full_at: datetime | None = session.execute(
        select(_REFRESH.c.fetched_at)
        .where(_REFRESH.c.kind == "full")
        .order_by(_REFRESH.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    kind: Literal["full", "incremental"] = "incremental" if latest.kind == "incremental" else "full"
    return RefreshState(latest.fetched_at, kind, latest.watermark, full_at)


def _latest_refresh_at(session: Session) -> datetime | None:
    latest: datetime | None = session.execute(
        select(_REFRESH.c.fetched_at).order_by(_REFRESH.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    return latest


# Loading validates all rows in one pydantic-core call per table (a TypeAdapter over a list):
# measured on 50,000 markets it is faster than per-row model_validate, and faster still than
# model_construct, which runs in Python.
_MARKETS = TypeAdapter(tuple[Market, ...])
_EVENTS = TypeAdapter(tuple[Event, ...])
_MARKET_COLUMNS = (
    "condition_id",
    "market_id",
    "question",
    "slug",
    "outcomes",
    "neg_risk",
    "neg_risk_market_id",
    "event_id",
    "tick_size",
    "min_order_size",
    "fee_rate",
    "fee_exponent",
    "fee_taker_only",
    "fee_rebate_rate",
    "active",
    "accepting_orders",
    "closed",
    "end_date",
    "version",
)


def _market_fields(row: Sequence[Any]) -> dict[str, Any]:
    fields = dict(zip(_MARKET_COLUMNS, row, strict=True))
    fields["fees"] = {
        "rate": fields.pop("fee_rate"),
        "exponent": fields.pop("fee_exponent"),
        "taker_only": fields.pop("fee_taker_only"),
        "rebate_rate": fields.pop("fee_rebate_rate"),
    }
    return fields


def _select_markets() -> Select[Any]:
    return select(*(_MARKET.c[name] for name in _MARKET_COLUMNS))


_EVENT_COLUMNS = (
    "event_id",
    "title",
    "slug",
    "neg_risk",
    "neg_risk_augmented",
    "neg_risk_market_id",
    "market_condition_ids",
    "closed",
)


def load_catalogue(session: Session, venue: str | None = None) -> Catalogue | None:
    """The cached catalogue, or ``None``: the markets and events of the last full save and of
    every later save (incremental or partial) that are not closed. With ``venue``: ``None``
    unless the newest refresh came from that venue.

    It is dated and watermarked by the newest refresh of any kind. Skipped items are not
    stored: the loaded catalogue has ``skipped == ()``.
    """
    state = refresh_state(session, venue)
    if state is None:
        return None
    since = state.full_at or state.refreshed_at
    markets = session.execute(
        _select_markets()
        .where(_MARKET.c.refreshed_at >= since, _MARKET.c.closed.is_(False))
        .order_by(_MARKET.c.condition_id)
    )
    events = session.execute(
        select(*(_EVENT.c[name] for name in _EVENT_COLUMNS))
        .where(_EVENT.c.refreshed_at >= since, _EVENT.c.closed.is_(False))
        .order_by(_EVENT.c.event_id)
    )
    return Catalogue(
        markets=_MARKETS.validate_python([_market_fields(row) for row in markets]),
        events=_EVENTS.validate_python(
            [dict(zip(_EVENT_COLUMNS, row, strict=True)) for row in events]
        ),
        fetched_at=state.refreshed_at,
        watermark=state.watermark,
    )


def stored_market(session: Session, condition_id: str) -> Market | None:
    """Any market ever stored under ``condition_id`` (closed or removed ones included)."""
    row = session.execute(
        _select_markets().where(_MARKET.c.condition_id == condition_id)
    ).one_or_none()
    return None if row is None else Market.model_validate(_market_fields(row))


def market_rows_for(session: Session, condition_ids: Sequence[str]) -> list[Market]:
    """The stored markets among ``condition_ids`` (closed or removed ones included)."""
    found: list[Market] = []
    for start in range(0, len(condition_ids), _CHUNK):
        chunk = list(condition_ids[start : start + _CHUNK])
        rows = session.execute(_select_markets().where(_MARKET.c.condition_id.in_(chunk)))
        found.extend(_MARKETS.validate_python([_market_fields(row) for row in rows]))
    return found


def catalogue_age(session: Session, now: datetime) -> timedelta | None:
    """How old the cached catalogue is at ``now`` (``None`` when nothing is cached)."""
    fetched_at = _latest_refresh_at(session)
    return None if fetched_at is None else now - fetched_at


def cached_catalogue(
    engine: Engine,
    max_age_seconds: int,
    now: datetime,
    refresh: Callable[[], Catalogue],
    venue: str | None = None,
) -> tuple[Catalogue, bool]:
    """The stored catalogue while younger than ``max_age_seconds``, else ``refresh()`` saved.

    Returns the catalogue and whether it was refreshed. ``refresh`` (which pages Gamma) runs
    outside any database transaction, so no connection or lock is held during the fetch.
    ``venue``: the cache of another venue is never returned.
    """
    with session_scope(engine, read_only=True) as session:
        age = catalogue_age(session, now)
        if age is not None and age < timedelta(seconds=max_age_seconds):
            cached = load_catalogue(session, venue)
            if cached is not None:
                return cached, False
    fresh = refresh()
    with session_scope(engine) as session:
        save_catalogue(session, fresh, venue=venue)
    return fresh, True
