"""Order/trade statuses, POST /order acks, orders, trades, balances and cancels."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pm_lib.errors import BadVenueData
from pm_lib.models import OrderStatus, OrderType, Side, TradeStatus
from pm_lib.venue.wire import (
    SizeUnits,
    normalise_order_status,
    normalise_trade_status,
    parse_balance_allowance,
    parse_cancel_response,
    parse_open_order,
    parse_post_order_response,
    parse_trade,
)

YES = "32338220190071351435772801779725302244575775216413325951443816017994629993401"
NO = "25659310674993675562345759665114759892400026242514633218387667107987341231962"
CONDITION = "0xa467b14d51f01b957109d9cbb1d6c124fab2a089d52ed8f471d23c2812e743b7"
OUR_KEY = "k-123"
OUR_ADDRESS = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("live", OrderStatus.LIVE),
        ("LIVE", OrderStatus.LIVE),
        ("ORDER_STATUS_LIVE", OrderStatus.LIVE),
        ("delayed", OrderStatus.LIVE),
        ("ORDER_STATUS_DELAYED", OrderStatus.LIVE),
        ("unmatched", OrderStatus.LIVE),
        ("ORDER_STATUS_UNMATCHED", OrderStatus.LIVE),
        ("matched", OrderStatus.MATCHED),
        ("MATCHED", OrderStatus.MATCHED),
        ("ORDER_STATUS_MATCHED", OrderStatus.MATCHED),
        ("canceled", OrderStatus.CANCELED),
        ("cancelled", OrderStatus.CANCELED),
        ("CANCELED", OrderStatus.CANCELED),
        ("ORDER_STATUS_CANCELED", OrderStatus.CANCELED),
        ("ORDER_STATUS_CANCELED_MARKET_RESOLVED", OrderStatus.CANCELED),
        ("ORDER_STATUS_SYSTEM_CLEARED", OrderStatus.CANCELED),
        ("INVALID", OrderStatus.REJECTED),
        ("ORDER_STATUS_INVALID", OrderStatus.REJECTED),
        ("ORDER_STATUS_EXPIRED", OrderStatus.EXPIRED),
        (" Live ", OrderStatus.LIVE),
    ],
)
def test_every_order_status_spelling_is_normalised(raw: str, expected: OrderStatus) -> None:
    assert normalise_order_status(raw) is expected


@pytest.mark.parametrize("raw", ["ORDER_STATUS_PAUSED", "", None, 3])
def test_unknown_order_status_is_bad_venue_data(raw: object) -> None:
    with pytest.raises(BadVenueData, match="status"):
        normalise_order_status(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TRADE_STATUS_MATCHED", TradeStatus.MATCHED),
        ("TRADE_STATUS_MINED", TradeStatus.MINED),
        ("TRADE_STATUS_CONFIRMED", TradeStatus.CONFIRMED),
        ("TRADE_STATUS_RETRYING", TradeStatus.RETRYING),
        ("TRADE_STATUS_FAILED", TradeStatus.FAILED),
        ("MATCHED", TradeStatus.MATCHED),
        ("mined", TradeStatus.MINED),
        ("CONFIRMED", TradeStatus.CONFIRMED),
        ("RETRYING", TradeStatus.RETRYING),
        ("FAILED", TradeStatus.FAILED),
    ],
)
def test_every_trade_status_spelling_is_normalised(raw: str, expected: TradeStatus) -> None:
    assert normalise_trade_status(raw) is expected


def test_unknown_trade_status_is_bad_venue_data() -> None:
    with pytest.raises(BadVenueData, match="unknown trade status"):
        normalise_trade_status("TRADE_STATUS_SETTLED")


def test_real_matched_post_order_response() -> None:
    # Shape of the real answer quoted in py-clob-client#217 (docs/VENUE.md 2.4).
    raw = {
        "errorMsg": "",
        "orderID": "0xabc",
        "takingAmount": "14.925372",
        "makingAmount": "9.999999",
        "status": "matched",
        "transactionsHashes": ["0xdef"],
        "success": True,
    }

    ack = parse_post_order_response(raw)

    assert ack.success and ack.order_id == "0xabc" and ack.status is OrderStatus.MATCHED
    assert (ack.making_amount, ack.taking_amount) == (Decimal("9.999999"), Decimal("14.925372"))
    assert ack.transaction_hashes == ("0xdef",) and ack.trade_ids == ()


def test_failed_post_with_empty_fields_reads_as_none() -> None:
    raw = {
        "success": False,
        "errorMsg": "not enough balance / allowance",
        "orderID": "",
        "status": "",
        "makingAmount": "",
        "takingAmount": "",
        "transactionsHashes": None,
        "tradeIDs": None,
    }

    ack = parse_post_order_response(raw)

    assert not ack.success and ack.error_msg == "not enough balance / allowance"
    assert (ack.order_id, ack.status, ack.making_amount, ack.taking_amount) == (None,) * 4


def _order(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "0xorder",
        "status": "ORDER_STATUS_LIVE",
        "owner": OUR_KEY,
        "maker_address": OUR_ADDRESS,
        "market": CONDITION,
        "asset_id": YES,
        "side": "BUY",
        "original_size": "10",
        "size_matched": "2.5",
        "price": "0.45",
        "outcome": "Yes",
        "expiration": "0",
        "order_type": "GTC",
        "associate_trades": ["t-1"],
        "created_at": 1788636850,
    }
    raw.update(changes)
    return raw


def test_open_order_with_decimal_share_sizes() -> None:
    order = parse_open_order(_order())

    assert (order.order_id, order.status, order.side) == ("0xorder", OrderStatus.LIVE, Side.BUY)
    assert (order.original_size, order.size_matched, order.remaining) == (
        Decimal(10),
        Decimal("2.5"),
        Decimal("7.5"),
    )
    assert order.price == Decimal("0.45") and order.order_type is OrderType.GTC
    assert order.created_at == datetime(2026, 9, 5, 19, 34, 10, tzinfo=UTC)
    assert order.trade_ids == ("t-1",)


def test_open_order_with_fixed_math_sizes_is_scaled() -> None:
    order = parse_open_order(_order(original_size="100000000", size_matched="2500000"))

    assert (order.original_size, order.size_matched) == (Decimal(100), Decimal("2.5"))


def test_forced_share_units_skip_the_guess() -> None:
    order = parse_open_order(
        _order(original_size="2000000", size_matched="0"), units=SizeUnits.SHARES
    )

    assert order.original_size == Decimal(2_000_000)


def test_overfilled_order_is_bad_venue_data() -> None:
    with pytest.raises(BadVenueData, match="size_matched 11 outside"):
        parse_open_order(_order(size_matched="11"))


def test_order_with_unknown_side_is_bad_venue_data() -> None:
    with pytest.raises(BadVenueData, match="BUY or SELL"):
        parse_open_order(_order(side="HOLD"))


def test_order_created_at_as_iso_string() -> None:
    order = parse_open_order(_order(created_at="2026-09-05T19:34:10Z"))

    assert order.created_at == datetime(2026, 9, 5, 19, 34, 10, tzinfo=UTC)


def _trade(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "trade-1",
        "taker_order_id": "0xtaker",
        "market": CONDITION,
        "asset_id": YES,
        "side": "BUY",
        "size": "10",
        "fee_rate_bps": "0",
        "price": "0.46",
        "status": "TRADE_STATUS_MATCHED",
        "match_time": "1788636850",
        "owner": "someone-else",
        "maker_address": "0x0000000000000000000000000000000000000001",
        "trader_side": "MAKER",
        "maker_orders": [
            {
                "order_id": "0xmaker-ours",
                "asset_id": YES,
                "maker_address": OUR_ADDRESS.lower(),
                "owner": OUR_KEY,
                "side": "SELL",
                "price": "0.46",
                "matched_amount": "4",
                "outcome": "Yes",
            },
            {
                "order_id": "0xmaker-theirs",
                "asset_id": YES,
                "maker_address": "0x0000000000000000000000000000000000000002",
                "owner": "another",
                "side": "SELL",
                "price": "0.46",
                "matched_amount": "6",
                "outcome": "Yes",
            },
        ],
    }
    raw.update(changes)
    return raw


def test_our_maker_entry_becomes_one_maker_fill() -> None:
    fills = parse_trade(_trade(), owner=OUR_KEY)

    assert len(fills) == 1
    fill = fills[0]
    assert (fill.order_id, fill.side, fill.size, fill.price) == (
        "0xmaker-ours",
        Side.SELL,
        Decimal(4),
        Decimal("0.46"),
    )
    assert fill.is_taker is False and fill.status is TradeStatus.MATCHED
    assert fill.matched_at == datetime(2026, 9, 5, 19, 34, 10, tzinfo=UTC)


def test_our_taker_row_becomes_one_taker_fill() -> None:
    raw = _trade(owner=OUR_KEY, maker_address=OUR_ADDRESS, trader_side="TAKER")
    raw["maker_orders"] = raw["maker_orders"][1:]
    raw["maker_orders"][0]["matched_amount"] = "10"

    fills = parse_trade(raw, addresses=[OUR_ADDRESS])

    assert [(f.order_id, f.side, f.size, f.is_taker) for f in fills] == [
        ("0xtaker", Side.BUY, Decimal(10), True)
    ]


def test_taker_fill_price_is_the_vwap_of_the_maker_orders_not_the_limit() -> None:
    raw = _trade(owner=OUR_KEY, trader_side="TAKER", price="0.60")  # 0.60: the taker's limit
    raw["maker_orders"][0].update(owner="a", maker_address="0x" + "0a" * 20)
    raw["maker_orders"][1].update(asset_id=NO, side="BUY", price="0.45")  # a mint: YES at 0.55

    [fill] = parse_trade(raw, owner=OUR_KEY)

    # (4 x 0.46 + 6 x 0.55) / 10
    assert (fill.is_taker, fill.size, fill.price) == (True, Decimal(10), Decimal("0.514"))


def test_vwap_is_rounded_half_up_to_six_places() -> None:
    raw = _trade(owner=OUR_KEY, trader_side="TAKER", size="3")
    raw["maker_orders"] = [
        {**raw["maker_orders"][1], "matched_amount": "1", "price": "0.55"},
        {**raw["maker_orders"][1], "matched_amount": "2", "price": "0.56"},
    ]

    [fill] = parse_trade(raw, owner=OUR_KEY)

    assert fill.price == Decimal("0.556667")


def test_as_maker_only_our_maker_entries_count_even_if_the_row_names_us() -> None:
    """``trader_side`` decides: a MAKER row whose top-level owner is our key is not our taker
    fill (its price and size are the taker's)."""
    fills = parse_trade(_trade(owner=OUR_KEY), owner=OUR_KEY)

    assert [(f.order_id, f.is_taker, f.size, f.price) for f in fills] == [
        ("0xmaker-ours", False, Decimal(4), Decimal("0.46"))
    ]


def test_as_taker_maker_entries_with_our_key_are_not_counted_twice() -> None:
    raw = _trade(owner=OUR_KEY, trader_side="TAKER")

    fills = parse_trade(raw, owner=OUR_KEY)

    assert [(f.order_id, f.is_taker) for f in fills] == [("0xtaker", True)]


def test_taker_row_whose_maker_orders_do_not_add_up_is_bad_venue_data() -> None:
    raw = _trade(owner=OUR_KEY, trader_side="TAKER", size="11")

    with pytest.raises(BadVenueData, match="maker_orders match 10 shares"):
        parse_trade(raw, owner=OUR_KEY)


def test_taker_row_without_maker_orders_is_bad_venue_data() -> None:
    with pytest.raises(BadVenueData, match="without maker_orders"):
        parse_trade(_trade(owner=OUR_KEY, trader_side="TAKER", maker_orders=[]), owner=OUR_KEY)


def test_unknown_trader_side_is_bad_venue_data() -> None:
    with pytest.raises(BadVenueData, match="trader_side"):
        parse_trade(_trade(trader_side="BOTH"), owner=OUR_KEY)


def test_addresses_match_case_insensitively() -> None:
    fills = parse_trade(_trade(), addresses=[OUR_ADDRESS.upper().replace("0X", "0x")])

    assert [f.order_id for f in fills] == ["0xmaker-ours"]


def test_maker_side_is_derived_for_a_mint_match_on_the_other_token() -> None:
    raw = _trade()
    ours = raw["maker_orders"][0]
    del ours["side"]
    ours["asset_id"] = NO
    ours["price"] = "0.54"

    fills = parse_trade(raw, owner=OUR_KEY)

    assert (fills[0].token_id, fills[0].side) == (NO, Side.BUY)


def test_trade_that_is_not_ours_yields_no_fill() -> None:
    assert parse_trade(_trade(), owner="nobody") == []


def test_parse_trade_needs_an_identity() -> None:
    with pytest.raises(ValueError, match="owner"):
        parse_trade(_trade())


def test_trade_with_unknown_status_is_bad_venue_data() -> None:
    with pytest.raises(BadVenueData, match="unknown trade status"):
        parse_trade(_trade(status="TRADE_STATUS_LOST"), owner=OUR_KEY)


def test_balance_and_allowances_are_base_units_over_a_million() -> None:
    max_uint = str(2**256 - 1)
    raw = {"balance": "1500000", "allowances": {"0xE111": max_uint, "0xe222": 0}}

    balance, allowances = parse_balance_allowance(raw)

    assert balance == Decimal("1.5")
    assert str(allowances["0xE111"]) == f"{max_uint[:-6]}.{max_uint[-6:]}"  # exact, not rounded
    assert allowances["0xe222"] == 0


@pytest.mark.parametrize("balance", ["-1", "1.5", "abc", None])
def test_bad_balance_is_bad_venue_data(balance: object) -> None:
    with pytest.raises(BadVenueData):
        parse_balance_allowance({"balance": balance, "allowances": {}})


def test_cancel_response_with_null_not_canceled() -> None:
    result = parse_cancel_response({"canceled": ["0xa", "0xb"], "not_canceled": None})

    assert result.canceled == ("0xa", "0xb") and result.not_canceled == {}


def test_cancel_response_with_reasons() -> None:
    result = parse_cancel_response({"canceled": [], "not_canceled": {"0xa": "order not found"}})

    assert result.canceled == () and result.not_canceled == {"0xa": "order not found"}
