"""Stored markets come back from the DB exactly as pydantic would have validated them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Engine, select

from pm_lib.models import Catalogue, Market
from pm_lib.store.catalogue import _market_fields, load_catalogue, save_catalogue
from pm_lib.store.catalogue_rows import MARKET_COLUMNS, markets_from_rows
from pm_lib.store.engine import session_scope
from pm_lib.store.tables import CatalogueMarket
from pm_lib.venue.errors import BadVenueData
from pm_lib.venue.wire import parse_gamma_market
from tests.store.samples import NOW, catalogue

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
_MARKETS = TypeAdapter(tuple[Market, ...])
_TABLE = CatalogueMarket.__table__  # type: ignore[attr-defined]


def _recorded_markets() -> tuple[Market, ...]:
    """Markets parsed from recorded Gamma JSON: fees on and off, neg-risk, v1/v2, end dates."""
    raw = json.loads(
        (RESOURCES / "2026-03-25_yingchen168_11__polymarket_markets.slice35.json").read_text()
    )
    parsed = []
    for item in raw:
        try:
            parsed.append(parse_gamma_market(item))
        except BadVenueData:
            continue
    return tuple(parsed)


def _stored_rows(engine: Engine) -> list[tuple[object, ...]]:
    with session_scope(engine, read_only=True) as session:
        query = select(*(_TABLE.c[name] for name in MARKET_COLUMNS)).order_by(_TABLE.c.condition_id)
        return [tuple(row) for row in session.execute(query)]


def _validated(rows: list[tuple[object, ...]]) -> tuple[Market, ...]:
    # How rows were read before: every field validated by pydantic.
    return _MARKETS.validate_python([_market_fields(row) for row in rows])


@pytest.mark.parametrize("source", ["recorded", "samples"])
def test_rows_build_the_markets_validation_would(engine: Engine, source: str) -> None:
    markets = _recorded_markets() if source == "recorded" else catalogue(range(5)).markets
    assert len(markets) >= 5
    with session_scope(engine) as session:
        save_catalogue(session, Catalogue(markets=markets, fetched_at=NOW))
    rows = _stored_rows(engine)

    built, validated = markets_from_rows(rows), _validated(rows)

    assert built == validated
    assert [repr(m) for m in built] == [repr(m) for m in validated]
    assert [m.model_dump() for m in built] == [m.model_dump() for m in validated]
    assert {m.condition_id: m for m in built} == {m.condition_id: m for m in markets}


def test_the_loaded_catalogue_equals_what_was_saved(engine: Engine) -> None:
    markets = _recorded_markets()
    with session_scope(engine) as session:
        save_catalogue(session, Catalogue(markets=markets, fetched_at=NOW))
    with session_scope(engine, read_only=True) as session:
        loaded = load_catalogue(session)
    assert loaded is not None
    assert sorted(loaded.markets, key=lambda m: m.condition_id) == sorted(
        markets, key=lambda m: m.condition_id
    )


def test_an_unknown_stored_version_is_refused() -> None:
    row = list(_row_of(catalogue([1]).markets[0]))
    row[MARKET_COLUMNS.index("version")] = "v9"
    with pytest.raises(ValueError, match="unknown version 'v9'"):
        markets_from_rows([row])


def test_a_malformed_stored_outcome_is_refused() -> None:
    row = list(_row_of(catalogue([1]).markets[0]))
    row[MARKET_COLUMNS.index("outcomes")] = [{"name": "Yes", "token_id": 123}]
    with pytest.raises(ValueError, match="not a name and a token id"):
        markets_from_rows([row])


def _row_of(market: Market) -> tuple[object, ...]:
    values = market.model_dump()
    fees = values.pop("fees")
    values.update(
        fee_rate=fees["rate"],
        fee_exponent=fees["exponent"],
        fee_taker_only=fees["taker_only"],
        fee_rebate_rate=fees["rebate_rate"],
        outcomes=[dict(o) for o in values["outcomes"]],
        version=market.version.value,
    )
    return tuple(values[name] for name in MARKET_COLUMNS)
