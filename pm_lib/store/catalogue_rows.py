"""Stored catalogue markets read back as ``Market`` objects without a second validation.

Every market row was written by ``save_catalogue`` from a ``Market`` that the Gamma parser had
validated, into typed columns (``ExactDecimal`` money and ticks, ``UTCDateTime``, JSON outcomes),
so its values come back with the field types already. Validating ~50,000 of them again with
pydantic was most of a warm 50,000-market catalogue load (docs/PERFORMANCE.md); they are built
with ``pm_lib.prebuilt`` instead. What the columns do not type is checked here: the protocol
version becomes a ``ProtocolVersion`` (an unknown one raises ``ValueError``) and each outcome
must be an object with a string ``name`` and ``token_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

from pm_lib.models import FeeSchedule, Market, Outcome, ProtocolVersion
from pm_lib.prebuilt import fields_set_of, prebuilt

__all__ = ["MARKET_COLUMNS", "markets_from_rows"]

# The market columns ``markets_from_rows`` reads, in order (the catalogue query selects these).
MARKET_COLUMNS: Final = (
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
_MARKET_FIELDS: Final = fields_set_of(Market)
_OUTCOME_FIELDS: Final = fields_set_of(Outcome)
_FEE_FIELDS: Final = fields_set_of(FeeSchedule)
_VERSIONS: Final = {v.value: v for v in ProtocolVersion}


def _outcome(stored: Any) -> Outcome:
    name, token_id = stored["name"], stored["token_id"]
    if type(name) is not str or type(token_id) is not str:
        raise ValueError(f"stored outcome is not a name and a token id: {stored!r}")
    return prebuilt(Outcome, _OUTCOME_FIELDS, {"name": name, "token_id": token_id})


def _market(row: Sequence[Any]) -> Market:
    (
        condition_id,
        market_id,
        question,
        slug,
        outcomes,
        neg_risk,
        neg_risk_market_id,
        event_id,
        tick_size,
        min_order_size,
        fee_rate,
        fee_exponent,
        fee_taker_only,
        fee_rebate_rate,
        active,
        accepting_orders,
        closed,
        end_date,
        version,
    ) = row
    fees = prebuilt(
        FeeSchedule,
        _FEE_FIELDS,
        {
            "rate": fee_rate,
            "exponent": fee_exponent,
            "taker_only": fee_taker_only,
            "rebate_rate": fee_rebate_rate,
        },
    )
    protocol = _VERSIONS.get(version)
    if protocol is None:
        raise ValueError(f"stored market {condition_id} has an unknown version {version!r}")
    values = {
        "condition_id": condition_id,
        "market_id": market_id,
        "question": question,
        "slug": slug,
        "outcomes": tuple([_outcome(o) for o in outcomes]),
        "neg_risk": neg_risk,
        "neg_risk_market_id": neg_risk_market_id,
        "event_id": event_id,
        "tick_size": tick_size,
        "min_order_size": min_order_size,
        "fees": fees,
        "active": active,
        "accepting_orders": accepting_orders,
        "closed": closed,
        "end_date": end_date,
        "version": protocol,
    }
    return prebuilt(Market, _MARKET_FIELDS, values)


def markets_from_rows(rows: Iterable[Sequence[Any]]) -> tuple[Market, ...]:
    """``Market`` objects from rows of ``MARKET_COLUMNS`` (in that order)."""
    return tuple([_market(row) for row in rows])
