"""Gamma markets and events, and the CLOB's own market info, decoded into ``pm_lib.models``.

Venue quirks handled here (docs/VENUE.md 4.1, 2.4):
- ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are JSON *strings* inside the JSON;
- Gamma omits null fields, and sends tick/min size as JSON numbers but volumes as strings;
- ``version`` "v2" markets trade ``positionIds`` through ExchangeV3 (Protocol V2), which this
  bot does not support yet, so they are refused; a missing ``version`` is a pre-V2 "v1" row;
- the order of ``clobTokenIds`` has been reported not to match ``outcomes``
  (py-clob-client#276), so ``check_outcome_tokens`` re-maps them with the CLOB's own
  token -> outcome pairs from ``GET /clob-markets/{condition_id}`` before trading.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from pm_lib.errors import BadVenueData
from pm_lib.models import (
    ZERO,
    Event,
    FeeSchedule,
    Market,
    MarketResolution,
    Outcome,
    ProtocolVersion,
)
from pm_lib.venue.wire_fields import WireObject, is_token_id

__all__ = [
    "ClobMarketInfo",
    "check_outcome_tokens",
    "is_open_order_book_market",
    "parse_clob_market_info",
    "parse_gamma_event",
    "parse_gamma_market",
    "parse_gamma_resolution",
    "parse_gamma_updated_at",
    "resolution_agrees_with_clob",
]

_ONE = Decimal(1)
_PAYOUTS = (ZERO, Decimal("0.5"), _ONE)
# Exponents seen live: 1 (politics, sports), 2 (5-minute crypto), 0.5 (economics_fees, 2026-03).
_MAX_FEE_EXPONENT = Decimal(4)


def is_open_order_book_market(obj: Mapping[str, Any]) -> bool:
    """True when a raw Gamma market is listed for CLOB trading: active, not closed, book enabled.

    Only these are parsed into the catalogue; the rest (AMM-era, closed, pending deployment) are
    not errors, just not tradable. ``acceptingOrders`` is kept on the model for the risk gate.
    """
    return (
        obj.get("active") is True
        and obj.get("closed") is not True
        and obj.get("enableOrderBook") is True
    )


def _protocol_version(wire: WireObject) -> ProtocolVersion:
    raw = wire.fields.get("version")
    if raw is None:
        return ProtocolVersion.V1
    if raw == ProtocolVersion.V1.value:
        return ProtocolVersion.V1
    if raw == ProtocolVersion.V2.value:
        raise wire.bad("protocol version v2 (positionIds/ExchangeV3) not supported yet")
    raise wire.bad(f"unknown protocol version {raw!r}")


def _fee_schedule(wire: WireObject) -> FeeSchedule:
    if not wire.flag("feesEnabled"):
        return FeeSchedule.none()
    schedule = wire.fields.get("feeSchedule")
    if schedule is None:
        # Trading it as fee-free could turn a loss into a fake edge: refuse instead.
        raise wire.bad("feesEnabled is true but feeSchedule is missing")
    fee = wire.nested(schedule)
    return _checked_fees(
        wire,
        rate=fee.decimal("rate"),
        exponent=fee.decimal("exponent", default=_ONE),
        taker_only=fee.flag("takerOnly", default=True),
        rebate_rate=fee.decimal("rebateRate", default=ZERO),
    )


def _checked_fees(
    wire: WireObject, *, rate: Decimal, exponent: Decimal, taker_only: bool, rebate_rate: Decimal
) -> FeeSchedule:
    if not ZERO <= rate <= _ONE:
        raise wire.bad(f"fee rate {rate} outside [0, 1]")
    if not ZERO <= exponent <= _MAX_FEE_EXPONENT:
        raise wire.bad(f"fee exponent {exponent} outside [0, {_MAX_FEE_EXPONENT}]")
    if not ZERO <= rebate_rate <= _ONE:
        raise wire.bad(f"fee rebate rate {rebate_rate} outside [0, 1]")
    return FeeSchedule(rate=rate, exponent=exponent, taker_only=taker_only, rebate_rate=rebate_rate)


def _outcomes(wire: WireObject) -> tuple[Outcome, ...]:
    names = wire.json_list("outcomes")
    tokens = wire.json_list("clobTokenIds")
    if len(names) < 2:
        raise wire.bad(f"needs at least 2 outcomes, got {len(names)}")
    if len(names) != len(tokens):
        raise wire.bad(f"{len(names)} outcomes but {len(tokens)} clobTokenIds")
    if not all(isinstance(n, str) and n for n in names):
        raise wire.bad(f"outcome names should be non-empty strings: {names!r}")
    if len(set(names)) != len(names):
        raise wire.bad(f"duplicate outcome names: {names!r}")
    if not all(is_token_id(t) for t in tokens):
        raise wire.bad(f"clobTokenIds should be decimal-digit strings: {tokens!r}")
    if len(set(tokens)) != len(tokens):
        raise wire.bad("clobTokenIds are not distinct")
    return tuple(Outcome(name=n, token_id=t) for n, t in zip(names, tokens, strict=True))


def _first_event_id(wire: WireObject) -> str | None:
    events = wire.objects("events")
    if not events:
        return None
    return wire.nested(events[0]).optional_text("id")


def parse_gamma_market(obj: object) -> Market:
    """Decode one Gamma market object (``/markets``, ``/markets/keyset`` row or nested in an event).

    Raises ``BadVenueData`` for anything malformed, for Protocol-V2 or unknown ``version``, for a
    tick outside the venue's tick set, and for outcomes/tokens that do not pair up one to one.
    """
    wire = WireObject(obj, "market", ("id", "conditionId"))
    version = _protocol_version(wire)
    minimum_size = wire.decimal("orderMinSize")
    if minimum_size <= ZERO:
        raise wire.bad(f"orderMinSize {minimum_size} is not positive")
    return Market(
        condition_id=wire.condition_id("conditionId"),
        market_id=wire.text("id"),
        question=wire.text("question"),
        slug=wire.text("slug", default=""),
        outcomes=_outcomes(wire),
        neg_risk=wire.flag("negRisk"),
        neg_risk_market_id=wire.optional_text("negRiskMarketID"),
        event_id=_first_event_id(wire),
        tick_size=wire.tick("orderPriceMinTickSize"),
        min_order_size=minimum_size,
        fees=_fee_schedule(wire),
        active=wire.flag("active"),
        accepting_orders=wire.flag("acceptingOrders"),
        closed=wire.flag("closed"),
        end_date=wire.iso_datetime("endDate"),
        version=version,
    )


def parse_gamma_resolution(obj: object) -> MarketResolution | None:
    """The resolution of a raw Gamma market, or ``None`` while it is not resolved.

    Resolved means ``closed: true`` and ``umaResolutionStatus: "resolved"``; the payouts are the
    final ``outcomePrices`` paired with ``clobTokenIds`` (1 and 0, or 0.5 each for a 50-50).
    Anything else on a market that says it resolved raises ``BadVenueData``: a payout is never
    guessed.
    """
    wire = WireObject(obj, "market", ("id", "conditionId"))
    if not wire.flag("closed") or wire.fields.get("umaResolutionStatus") != "resolved":
        return None
    outcomes = _outcomes(wire)
    prices = wire.json_list("outcomePrices")
    if len(prices) != len(outcomes):
        raise wire.bad(f"{len(outcomes)} outcomes but {len(prices)} outcomePrices")
    try:
        payouts = [Decimal(str(p)) for p in prices]
    except ArithmeticError as e:
        raise wire.bad(f"outcomePrices are not numbers: {prices!r}") from e
    # UMA resolves a binary question to YES, NO or 50-50: anything else is not a final price.
    if any(p not in _PAYOUTS for p in payouts) or sum(payouts, ZERO) != _ONE:
        raise wire.bad(f"final outcomePrices {prices!r} are not payouts (1/0 or 0.5/0.5)")
    updated = wire.iso_datetime("updatedAt")  # the listing's last change: the resolution
    if updated is None:
        raise wire.bad("missing field 'updatedAt'")
    winners = [o for o, p in zip(outcomes, payouts, strict=True) if p == _ONE]
    return MarketResolution(
        condition_id=wire.condition_id("conditionId"),
        payouts={o.token_id: p for o, p in zip(outcomes, payouts, strict=True)},
        winning_token_id=winners[0].token_id if winners else None,
        winning_outcome=winners[0].name if winners else None,
        resolved_at=updated,
    )


def resolution_agrees_with_clob(resolution: MarketResolution, clob_market: object) -> None:
    """Check a Gamma resolution against the CLOB's ``GET /markets/{condition_id}``: the market is
    closed there too and its ``tokens[].winner`` flags the token Gamma pays 1 (none on a 50-50).
    Pairing outcomes with tokens from the CLOB guards against Gamma's ``clobTokenIds`` order
    (py-clob-client#276). Raises ``BadVenueData`` when they disagree."""
    wire = WireObject(clob_market, "clob market", ("condition_id",))
    if not wire.flag("closed"):
        raise wire.bad("Gamma says resolved but the CLOB market is not closed")
    winners = set()
    tokens = set()
    for raw in wire.objects("tokens"):
        token = wire.nested(raw)
        tokens.add(token.text("token_id"))
        if token.flag("winner"):
            winners.add(token.text("token_id"))
    if tokens != set(resolution.payouts):
        raise wire.bad(f"CLOB tokens {sorted(tokens)} differ from Gamma's clobTokenIds")
    expected = {resolution.winning_token_id} if resolution.winning_token_id else set()
    if winners != expected:
        raise wire.bad(f"CLOB winner {sorted(winners)} but Gamma pays 1 to {sorted(expected)}")


def parse_gamma_updated_at(obj: object, kind: str) -> tuple[str, datetime]:
    """The identity and ``updatedAt`` of a raw Gamma market (its ``conditionId``) or event (its
    ``id``): what an incremental catalogue refresh orders and merges by.

    ``updatedAt`` is ISO-8601 with microseconds ("2026-01-31T18:04:59.424834Z"); every recorded
    market has it. Raises ``BadVenueData`` when either field is missing or malformed.
    """
    wire = WireObject(obj, kind, ("id", "conditionId"))
    ident = wire.condition_id("conditionId") if kind == "market" else wire.text("id")
    updated = wire.iso_datetime("updatedAt")
    if updated is None:
        raise wire.bad("missing field 'updatedAt'")
    return ident, updated


def parse_gamma_event(obj: object) -> Event:
    """Decode one Gamma event with the condition ids of all its nested ``markets``.

    A nested market without a ``conditionId`` makes the event unusable for group-completeness
    checks, so the whole event is refused rather than silently shortened; so does a nested
    market under another ``negRiskMarketID`` than the event's. A nested "Other" placeholder leg
    (``negRiskOther``) marks the event augmented even when ``negRiskAugmented`` says otherwise:
    its outcome set can grow, so the basket strategy must not treat it as complete.
    """
    wire = WireObject(obj, "event", ("id", "slug"))
    group = wire.optional_text("negRiskMarketID")
    condition_ids: list[str] = []
    other_leg = False
    for nested in wire.objects("markets"):
        market = wire.nested(nested)
        if not market.fields.get("conditionId"):
            raise wire.bad(f"nested market {market.fields.get('id')!r} has no conditionId")
        condition_id = market.condition_id("conditionId")
        nested_group = market.optional_text("negRiskMarketID")
        if nested_group is not None and nested_group != group:
            raise wire.bad(
                f"nested market {condition_id} has negRiskMarketID {nested_group}, "
                f"the event {group}"
            )
        other_leg = other_leg or market.flag("negRiskOther")
        condition_ids.append(condition_id)
    return Event(
        event_id=wire.text("id"),
        title=wire.text("title", default=""),
        slug=wire.text("slug", default=""),
        neg_risk=wire.flag("negRisk"),
        neg_risk_augmented=wire.flag("negRiskAugmented") or other_leg,
        neg_risk_market_id=group,
        market_condition_ids=tuple(condition_ids),
        closed=wire.flag("closed"),
    )


class ClobMarketInfo(BaseModel):
    """The CLOB's compact market info (``GET /clob-markets/{condition_id}``).

    ``tokens`` are the CLOB's own token -> outcome pairs, the authority on token order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    condition_id: str | None
    tokens: tuple[Outcome, ...]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool = False
    fees: FeeSchedule = FeeSchedule()
    accepting_orders: bool | None = None


def parse_clob_market_info(obj: object) -> ClobMarketInfo:
    """Decode ``GET /clob-markets/{cond}``: ``{"c","t":[{"t","o"}],"mts","mos","nr","fd",...}``.

    ``fd`` (fee details ``r``/``e``/``to``) absent means no fee, as py_clob_client_v2 reads it.
    Null entries in ``t`` are ignored, as the SDK does.
    """
    wire = WireObject(obj, "clob market", ("c",))
    tokens: list[Outcome] = []
    for entry in wire.objects("t"):
        if entry is None:
            continue
        pair = wire.nested(entry)
        tokens.append(Outcome(name=pair.text("o"), token_id=pair.token_id("t")))
    if len(tokens) < 2:
        raise wire.bad(f"needs at least 2 tokens, got {len(tokens)}")
    if len({t.token_id for t in tokens}) != len(tokens):
        raise wire.bad("token ids are not distinct")
    if len({t.name for t in tokens}) != len(tokens):
        raise wire.bad("outcome names are not distinct")
    fees = FeeSchedule.none()
    if wire.fields.get("fd") is not None:
        detail = wire.nested(wire.fields["fd"])
        fees = _checked_fees(
            wire,
            rate=detail.decimal("r", default=ZERO),
            exponent=detail.decimal("e", default=_ONE),
            taker_only=detail.flag("to", default=True),
            rebate_rate=ZERO,
        )
    minimum_size = wire.decimal("mos")
    if minimum_size <= ZERO:
        raise wire.bad(f"mos (min order size) {minimum_size} is not positive")
    return ClobMarketInfo(
        condition_id=wire.optional_text("c"),
        tokens=tuple(tokens),
        tick_size=wire.tick("mts"),
        min_order_size=minimum_size,
        neg_risk=wire.flag("nr"),
        fees=fees,
        accepting_orders=None if wire.fields.get("ao") is None else wire.flag("ao"),
    )


def check_outcome_tokens(market: Market, info: ClobMarketInfo) -> Market:
    """The market with each outcome's token taken from the CLOB's own pairs.

    Gamma's ``clobTokenIds`` order is not to be trusted blindly (docs/VENUE.md 4.1): this keeps
    Gamma's outcome order (so ``market.yes`` stays the first outcome) and assigns each name the
    token the CLOB lists for it. The CLOB is also the live authority on the tick (it changes
    near 0 and 1), the minimum size and whether orders are accepted, so those are taken from it.
    Raises ``BadVenueData`` when the condition, the token set, the outcome names or the
    neg-risk flag (which picks the exchange contract to sign for) disagree.
    """

    def bad(reason: str) -> BadVenueData:
        return BadVenueData("market", market.condition_id, reason)

    if info.condition_id is not None and info.condition_id.lower() != market.condition_id.lower():
        raise bad(f"CLOB market info is for condition {info.condition_id}")
    if {t.token_id for t in info.tokens} != set(market.token_ids):
        raise bad("Gamma clobTokenIds and the CLOB's tokens are different sets")
    if info.neg_risk != market.neg_risk:
        raise bad(f"neg-risk differs: Gamma {market.neg_risk}, CLOB {info.neg_risk}")
    token_by_name = {t.name.casefold(): t.token_id for t in info.tokens}
    outcomes: list[Outcome] = []
    for outcome in market.outcomes:
        token = token_by_name.get(outcome.name.casefold())
        if token is None:
            raise bad(f"the CLOB lists no token for outcome {outcome.name!r}")
        outcomes.append(Outcome(name=outcome.name, token_id=token))
    accepting = market.accepting_orders if info.accepting_orders is None else info.accepting_orders
    return market.model_copy(
        update={
            "outcomes": tuple(outcomes),
            "tick_size": info.tick_size,
            "min_order_size": info.min_order_size,
            "accepting_orders": accepting,
        }
    )
