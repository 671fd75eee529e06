"""Exact decimals and aware UTC timestamps survive a round trip on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError

from pm_lib.store.types import Money, Price, UTCDateTime

_metadata = MetaData()
_sample = Table(
    "type_sample",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", Money()),
    Column("price", Price()),
    Column("at", UTCDateTime()),
)


@pytest.fixture
def sample_table(engine: Engine) -> Iterator[Table]:
    _metadata.create_all(engine)
    try:
        yield _sample
    finally:
        _metadata.drop_all(engine)


def _round_trip(engine: Engine, column: str, value: object) -> object:
    with engine.begin() as connection:
        connection.execute(insert(_sample).values({column: value}))
        return connection.execute(select(_sample.c[column])).scalar_one()


@pytest.mark.parametrize(
    "value", [Decimal("0.123456"), Decimal("123456789.123456"), Decimal("-42.000001")]
)
def test_money_round_trip_is_exact(engine: Engine, sample_table: Table, value: Decimal) -> None:
    stored = _round_trip(engine, "amount", value)
    assert isinstance(stored, Decimal)
    assert stored == value


def test_money_comes_back_with_six_places(engine: Engine, sample_table: Table) -> None:
    assert str(_round_trip(engine, "amount", Decimal("5"))) == "5.000000"


def test_price_round_trip_is_exact(engine: Engine, sample_table: Table) -> None:
    assert _round_trip(engine, "price", Decimal("0.999999")) == Decimal("0.999999")


def test_money_rounds_half_up_beyond_six_places(engine: Engine, sample_table: Table) -> None:
    assert _round_trip(engine, "amount", Decimal("0.0000005")) == Decimal("0.000001")


def test_money_refuses_a_float(engine: Engine, sample_table: Table) -> None:
    with pytest.raises(StatementError, match="float"):
        _round_trip(engine, "amount", 0.1)


def test_money_refuses_a_value_too_large_for_the_column(
    engine: Engine, sample_table: Table
) -> None:
    with pytest.raises(StatementError, match="does not fit"):
        _round_trip(engine, "amount", Decimal("1e14"))


def test_sql_sum_of_money_is_exact(engine: Engine, sample_table: Table) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(_sample), [{"amount": Decimal("0.1")}, {"amount": Decimal("0.2")}]
        )
        total = connection.execute(select(func.sum(_sample.c.amount))).scalar_one()
    assert total == Decimal("0.3")


def test_timestamp_comes_back_aware_in_utc(engine: Engine, sample_table: Table) -> None:
    plus_two = timezone(timedelta(hours=2))
    stored = _round_trip(engine, "at", datetime(2026, 11, 23, 14, 30, 0, 123456, tzinfo=plus_two))
    assert stored == datetime(2026, 11, 23, 12, 30, 0, 123456, tzinfo=UTC)
    assert isinstance(stored, datetime)
    assert stored.utcoffset() == timedelta(0)


def test_timestamp_refuses_a_naive_datetime(engine: Engine, sample_table: Table) -> None:
    with pytest.raises(StatementError, match="naive"):
        _round_trip(engine, "at", datetime(2026, 11, 23, 12, 0))
