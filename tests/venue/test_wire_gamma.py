"""Gamma markets/events and CLOB market info on recorded live JSON, and on broken variants."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pm_lib.errors import BadVenueData
from pm_lib.models import FeeSchedule, ProtocolVersion
from pm_lib.venue.wire import (
    check_outcome_tokens,
    is_open_order_book_market,
    parse_clob_market_info,
    parse_gamma_event,
    parse_gamma_market,
)

YES_TOKEN = "32338220190071351435772801779725302244575775216413325951443816017994629993401"
NO_TOKEN = "25659310674993675562345759665114759892400026242514633218387667107987341231962"
CLOB_INFO = "ChloePike-go-polymarket__clob_clob-markets_info_559651_2026-08.json"


def test_json_string_fields_are_decoded_in_order(gamma_market: dict[str, Any]) -> None:
    market = parse_gamma_market(gamma_market)

    assert [o.name for o in market.outcomes] == ["Yes", "No"]
    assert market.token_ids == (YES_TOKEN, NO_TOKEN)


def test_json_numbers_become_exact_decimals(gamma_market: dict[str, Any]) -> None:
    market = parse_gamma_market(gamma_market)

    assert market.tick_size == Decimal("0.001")
    assert str(market.tick_size) == "0.001"
    assert market.min_order_size == Decimal(5)


def test_numbers_sent_as_strings_are_accepted(gamma_market: dict[str, Any]) -> None:
    gamma_market["orderPriceMinTickSize"] = "0.01"
    gamma_market["orderMinSize"] = "5"

    market = parse_gamma_market(gamma_market)

    assert (market.tick_size, market.min_order_size) == (Decimal("0.01"), Decimal(5))


def test_identity_flags_and_dates(gamma_market: dict[str, Any]) -> None:
    market = parse_gamma_market(gamma_market)

    assert market.condition_id == gamma_market["conditionId"]
    assert market.market_id == "559651"
    assert market.slug == "xi-jinping-out-before-2027"
    assert (market.active, market.closed, market.accepting_orders) == (True, False, True)
    assert market.neg_risk is False and market.neg_risk_market_id is None
    assert market.end_date == datetime(2026, 12, 31, tzinfo=UTC)
    assert market.version is ProtocolVersion.V1


def test_politics_fee_schedule(gamma_market: dict[str, Any]) -> None:
    fees = parse_gamma_market(gamma_market).fees

    assert fees == FeeSchedule(
        rate=Decimal("0.04"), exponent=1, taker_only=True, rebate_rate=Decimal("0.25")
    )


def test_crypto_fee_schedule_with_exponent_two(resource: Callable[[str], Any]) -> None:
    fees = parse_gamma_market(resource("ra1nty-polymarket-cli__market_detail.json")).fees

    assert (fees.rate, fees.exponent, fees.rebate_rate) == (Decimal("0.25"), 2, Decimal("0.2"))


def test_fees_disabled_means_no_fee(gamma_market: dict[str, Any]) -> None:
    gamma_market["feesEnabled"] = False

    assert parse_gamma_market(gamma_market).fees == FeeSchedule.none()


def test_fees_enabled_without_schedule_is_refused(gamma_market: dict[str, Any]) -> None:
    del gamma_market["feeSchedule"]

    with pytest.raises(BadVenueData, match="feeSchedule is missing"):
        parse_gamma_market(gamma_market)


def test_event_id_comes_from_nested_events(resource: Callable[[str], Any]) -> None:
    rows = resource("sajiiid09-polywatch__gamma_markets_list.json")

    assert parse_gamma_market(rows[0]).event_id == "941194"


def test_row_without_events_has_no_event_id(gamma_market: dict[str, Any]) -> None:
    assert parse_gamma_market(gamma_market).event_id is None


def test_missing_version_is_a_v1_row(resource: Callable[[str], Any]) -> None:
    raw = resource("ra1nty-polymarket-cli__market_detail.json")
    assert "version" not in raw

    assert parse_gamma_market(raw).version is ProtocolVersion.V1


def test_neg_risk_market_keeps_its_group(gamma_market: dict[str, Any]) -> None:
    gamma_market["negRisk"] = True
    gamma_market["negRiskMarketID"] = "0x" + "ab" * 32

    market = parse_gamma_market(gamma_market)

    assert market.neg_risk is True
    assert market.group_id == "0x" + "ab" * 32


def test_v2_market_is_refused_with_the_reason(gamma_market: dict[str, Any]) -> None:
    gamma_market["version"] = "v2"

    with pytest.raises(BadVenueData) as caught:
        parse_gamma_market(gamma_market)

    assert caught.value.ident == "559651"
    assert caught.value.reason == "protocol version v2 (positionIds/ExchangeV3) not supported yet"


def _with(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        for key, value in fields.items():
            if value is None:
                raw.pop(key, None)
            else:
                raw[key] = value

    return mutate


BROKEN_MARKETS = [
    ("unknown version", _with(version="v9"), "unknown protocol version 'v9'"),
    ("tick off the venue set", _with(orderPriceMinTickSize=0.02), "not a venue tick size"),
    ("tick NaN", _with(orderPriceMinTickSize="NaN"), "not a finite number"),
    ("min size zero", _with(orderMinSize=0), "orderMinSize 0 is not positive"),
    ("one outcome", _with(outcomes='["Yes"]', clobTokenIds='["1"]'), "at least 2 outcomes"),
    ("count mismatch", _with(clobTokenIds='["1", "2", "3"]'), "2 outcomes but 3 clobTokenIds"),
    ("token not digits", _with(clobTokenIds='["1", "0xab"]'), "decimal-digit strings"),
    ("tokens repeated", _with(clobTokenIds='["7", "7"]'), "not distinct"),
    ("outcomes not JSON", _with(outcomes='["Yes", "No"'), "'outcomes' is not valid JSON"),
    ("outcomes an object", _with(outcomes='{"a": 1}'), "'outcomes' should be a list"),
    ("missing tokens", _with(clobTokenIds=None), "missing field 'clobTokenIds'"),
    ("bad condition id", _with(conditionId="0x12"), "condition id"),
    ("missing question", _with(question=None), "missing field 'question'"),
    ("negRisk mistyped", _with(negRisk="false"), "'negRisk' should be true/false"),
    ("end date garbage", _with(endDate="soon"), "not an ISO date-time"),
    (
        "negative fee exponent",
        _with(feeSchedule={"rate": 0.03, "exponent": -1, "takerOnly": True}),
        "outside [0, 4]",
    ),
    ("fee rate above one", _with(feeSchedule={"rate": 2, "exponent": 1}), "outside [0, 1]"),
]


@pytest.mark.parametrize(
    ("mutate", "reason"), [pytest.param(m, r, id=name) for name, m, r in BROKEN_MARKETS]
)
def test_broken_market_is_bad_venue_data_with_a_clear_reason(
    gamma_market: dict[str, Any], mutate: Callable[[dict[str, Any]], None], reason: str
) -> None:
    mutate(gamma_market)

    with pytest.raises(BadVenueData) as caught:
        parse_gamma_market(gamma_market)

    assert caught.value.kind == "market"
    assert reason in caught.value.reason


def test_native_lists_are_accepted_as_well_as_json_strings(gamma_market: dict[str, Any]) -> None:
    gamma_market["outcomes"] = json.loads(gamma_market["outcomes"])
    gamma_market["clobTokenIds"] = json.loads(gamma_market["clobTokenIds"])

    assert parse_gamma_market(gamma_market).token_ids == (YES_TOKEN, NO_TOKEN)


@pytest.mark.parametrize(
    ("changes", "listed"),
    [
        ({}, True),
        ({"closed": True}, False),
        ({"active": False}, False),
        ({"enableOrderBook": False}, False),
        ({"enableOrderBook": None}, False),
        ({"acceptingOrders": False}, True),
    ],
)
def test_open_order_book_filter(
    gamma_market: dict[str, Any], changes: dict[str, Any], listed: bool
) -> None:
    gamma_market.update(changes)

    assert is_open_order_book_market(gamma_market) is listed


def test_event_lists_its_nested_markets(resource: Callable[[str], Any]) -> None:
    event = parse_gamma_event(resource("ChloePike-go-polymarket__gamma_event_2890_2026-08-16.json"))

    assert event.event_id == "2890"
    assert event.closed is True and event.neg_risk is False
    assert event.market_condition_ids == (
        "0x064d33e3f5703792aafa92bfb0ee10e08f461b1b34c02c1f02671892ede1609a",
    )


def test_neg_risk_event_carries_group_fields(resource: Callable[[str], Any]) -> None:
    raw = resource("2026-01-08_henrywkk_polymarket-monitor__event_137153.json")

    event = parse_gamma_event(raw)

    assert event.neg_risk is True and event.neg_risk_augmented is False
    assert event.neg_risk_market_id == raw["negRiskMarketID"]
    assert len(event.market_condition_ids) == 11


def test_event_with_a_market_lacking_condition_id_is_refused(
    resource: Callable[[str], Any],
) -> None:
    raw = resource("2026-01-08_henrywkk_polymarket-monitor__event_137153.json")
    del raw["markets"][3]["conditionId"]

    with pytest.raises(BadVenueData, match="has no conditionId"):
        parse_gamma_event(raw)


def test_event_with_a_nested_other_leg_counts_as_augmented(
    resource: Callable[[str], Any],
) -> None:
    # an "Other" placeholder leg means the outcome set can grow, whatever the event flag says
    raw = resource("2026-01-08_henrywkk_polymarket-monitor__event_137153.json")
    raw["markets"][-1]["negRiskOther"] = True

    assert raw["negRiskAugmented"] is False
    assert parse_gamma_event(raw).neg_risk_augmented is True


def test_event_with_a_nested_market_of_another_group_is_refused(
    resource: Callable[[str], Any],
) -> None:
    raw = resource("2026-01-08_henrywkk_polymarket-monitor__event_137153.json")
    raw["markets"][2]["negRiskMarketID"] = "0x" + "ab" * 32

    with pytest.raises(BadVenueData, match="has negRiskMarketID 0xabab"):
        parse_gamma_event(raw)


def test_clob_market_info_is_decoded(resource: Callable[[str], Any]) -> None:
    info = parse_clob_market_info(resource(CLOB_INFO))

    assert [(t.name, t.token_id) for t in info.tokens] == [("Yes", YES_TOKEN), ("No", NO_TOKEN)]
    assert (info.tick_size, info.min_order_size) == (Decimal("0.001"), Decimal(5))
    assert info.neg_risk is False
    assert (info.fees.rate, info.fees.exponent, info.fees.taker_only) == (Decimal("0.04"), 1, True)


def test_clob_market_info_without_tokens_is_refused(resource: Callable[[str], Any]) -> None:
    raw = resource(CLOB_INFO)
    raw["t"] = [raw["t"][0]]

    with pytest.raises(BadVenueData, match="at least 2 tokens"):
        parse_clob_market_info(raw)


def test_matching_token_order_is_kept(
    gamma_market: dict[str, Any], resource: Callable[[str], Any]
) -> None:
    market = parse_gamma_market(gamma_market)

    checked = check_outcome_tokens(market, parse_clob_market_info(resource(CLOB_INFO)))

    assert checked == market


def test_reversed_clob_token_ids_are_fixed_by_the_clob_pairs(
    gamma_market: dict[str, Any], resource: Callable[[str], Any]
) -> None:
    gamma_market["clobTokenIds"] = json.dumps([NO_TOKEN, YES_TOKEN])
    market = parse_gamma_market(gamma_market)
    assert market.yes.token_id == NO_TOKEN

    checked = check_outcome_tokens(market, parse_clob_market_info(resource(CLOB_INFO)))

    assert (checked.yes.name, checked.yes.token_id) == ("Yes", YES_TOKEN)
    assert (checked.no.name, checked.no.token_id) == ("No", NO_TOKEN)


def test_foreign_token_is_rejected(
    gamma_market: dict[str, Any], resource: Callable[[str], Any]
) -> None:
    gamma_market["clobTokenIds"] = json.dumps([YES_TOKEN, "12345"])
    market = parse_gamma_market(gamma_market)

    with pytest.raises(BadVenueData, match="different sets"):
        check_outcome_tokens(market, parse_clob_market_info(resource(CLOB_INFO)))


def test_unknown_outcome_name_is_rejected(
    gamma_market: dict[str, Any], resource: Callable[[str], Any]
) -> None:
    gamma_market["outcomes"] = json.dumps(["Yes", "Maybe"])
    market = parse_gamma_market(gamma_market)

    with pytest.raises(BadVenueData, match="no token for outcome 'Maybe'"):
        check_outcome_tokens(market, parse_clob_market_info(resource(CLOB_INFO)))


def test_neg_risk_disagreement_is_rejected(
    gamma_market: dict[str, Any], resource: Callable[[str], Any]
) -> None:
    info = resource(CLOB_INFO)
    info["nr"] = True

    with pytest.raises(BadVenueData, match="neg-risk differs"):
        check_outcome_tokens(parse_gamma_market(gamma_market), parse_clob_market_info(info))


def test_live_tick_and_acceptance_come_from_the_clob(
    gamma_market: dict[str, Any], resource: Callable[[str], Any]
) -> None:
    info = resource(CLOB_INFO)
    info["mts"] = 0.0001
    info["ao"] = False

    checked = check_outcome_tokens(parse_gamma_market(gamma_market), parse_clob_market_info(info))

    assert checked.tick_size == Decimal("0.0001")
    assert checked.accepting_orders is False


def test_fractional_fee_exponent_is_kept_exactly(gamma_market: dict[str, Any]) -> None:
    # Gamma lists economics_fees markets with "exponent": 0.5 (bulk 2026-03-25 capture).
    _with(feeSchedule={"rate": 0.03, "exponent": 0.5, "takerOnly": True})(gamma_market)
    assert parse_gamma_market(gamma_market).fees.exponent == Decimal("0.5")
