"""Hypothesis strategies for hostile venue payloads, grown from recorded live JSON.

Seeds are real captures in tests/resources (see PROVENANCE.md): a Gamma market, a Gamma event,
two CLOB books, the CLOB's compact market info. Mutations: fields dropped or replaced by junk of
the wrong type, NaN/inf (as JSON floats and as strings), zero, negative and huge numbers, odd
unicode (RTL override, zero-width, full-width digits, NUL, emoji), broken JSON-in-JSON, crossed
books, duplicate levels, huge books. ``broken_*`` strategies only ever produce payloads the
venue edge must refuse; ``*_payloads`` may also produce harmless ones.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "BOOK",
    "GAMMA_MARKET",
    "book_payloads",
    "broken_books",
    "broken_gamma_markets",
    "clob_market_info_payloads",
    "gamma_event_payloads",
    "gamma_market_payloads",
    "huge_book",
    "load",
    "mutated",
    "order_payloads",
    "post_ack_payloads",
    "trade_payloads",
]

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def load(name: str) -> Any:
    """A recorded venue JSON file (a fresh copy)."""
    return json.loads((RESOURCES / name).read_text(encoding="utf-8"))


BOOK = load("sajiiid09-polywatch__book.json")
EMPTY_BID_BOOK = load("ra1nty-polymarket-cli__book.json")
GAMMA_MARKET = load("ChloePike-go-polymarket__gamma_market_559651_2026-08-16.json")
GAMMA_EVENT = load("ChloePike-go-polymarket__gamma_event_2890_2026-08-16.json")
CLOB_MARKET_INFO = load("ChloePike-go-polymarket__clob_clob-markets_info_559651_2026-08.json")

ODD_TEXT = [
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e999",
    "-1e999",
    "1e-999",
    "-0",
    "0",
    "-1",
    "",
    " ",
    "0x1f",
    "１２３",  # full-width digits: str.isdigit() is True
    "\u202e0.5",  # right-to-left override
    "0.5\u200b",  # zero-width space
    "\x00",
    "💥",
    "1_000",
    "0.1.2",
    "[1, 2",
    '["Yes"]',
    "null",
]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(ODD_TEXT),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
"""A JSON value of any type, often the wrong one."""


def _apply(base: dict[str, Any], edits: list[tuple[str, str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for op, key, value in edits:
        if op == "drop":
            out.pop(key, None)
        else:
            out[key] = value
    return out


def mutated(base: dict[str, Any], values: st.SearchStrategy[Any] = junk) -> st.SearchStrategy[Any]:
    """``base`` with one to three fields dropped or set to ``values``."""
    edit = st.tuples(st.sampled_from(["drop", "set"]), st.sampled_from(sorted(base)), values)
    return st.lists(edit, min_size=1, max_size=3).map(lambda edits: _apply(base, edits))


# --- CLOB books --------------------------------------------------------------------------------

_level_number = st.one_of(
    st.decimals(min_value=-2, max_value=2, places=4, allow_nan=False).map(str),
    st.sampled_from(ODD_TEXT),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-5, max_value=5),
)
_level = st.one_of(
    st.fixed_dictionaries({"price": _level_number, "size": _level_number}),
    junk,
)


def _with_levels(bids: list[Any], asks: list[Any]) -> dict[str, Any]:
    return {**copy.deepcopy(BOOK), "bids": bids, "asks": asks}


def huge_book(count: int) -> dict[str, Any]:
    """A valid book with ``count`` (at most 4999) levels a side, best price last as sent."""
    bids = [{"price": f"{0.0001 * (i + 1):.4f}", "size": "10"} for i in range(count)]
    asks = [{"price": f"{0.9999 - 0.0001 * i:.4f}", "size": "10"} for i in range(count)]
    return {**copy.deepcopy(EMPTY_BID_BOOK), "bids": bids, "asks": asks}


def book_payloads() -> st.SearchStrategy[Any]:
    """Any book-shaped (or not) payload: mutated captures, random levels, huge books."""
    return st.one_of(
        mutated(BOOK),
        mutated(EMPTY_BID_BOOK),
        st.builds(_with_levels, st.lists(_level, max_size=6), st.lists(_level, max_size=6)),
        st.integers(min_value=1000, max_value=4000).map(huge_book),
        junk,
    )


def _broken_book(kind: str, value: Any) -> dict[str, Any]:
    book = copy.deepcopy(BOOK)
    best_bid, best_ask = book["bids"][-1], book["asks"][-1]
    match kind:
        case "missing":
            book.pop(value)
        case "nan_price":
            best_ask["price"] = value
        case "bad_size":
            best_bid["size"] = value
        case "price_outside":
            best_ask["price"] = value
        case "crossed":
            best_bid["price"] = best_ask["price"]
        case "duplicate":
            book["asks"].append(dict(best_ask))
        case "levels_not_a_list":
            book["bids"] = value
        case "token_id":
            book["asset_id"] = value
        case "tick":
            book["tick_size"] = value
        case "time":
            book["timestamp"] = value
    return book


def broken_books() -> st.SearchStrategy[dict[str, Any]]:
    """Books the venue edge must refuse, one defect each."""
    required = ["asset_id", "market", "bids", "asks", "tick_size", "min_order_size", "timestamp"]
    return st.one_of(
        st.builds(_broken_book, st.just("missing"), st.sampled_from(required)),
        st.builds(
            _broken_book,
            st.just("nan_price"),
            st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "abc", ""]),
        ),
        st.builds(_broken_book, st.just("bad_size"), st.sampled_from(["0", "-5", "-0.01", "NaN"])),
        st.builds(
            _broken_book, st.just("price_outside"), st.sampled_from(["1", "1.5", "0", "-0.2"])
        ),
        st.builds(_broken_book, st.just("crossed"), st.none()),
        st.builds(_broken_book, st.just("duplicate"), st.none()),
        st.builds(_broken_book, st.just("levels_not_a_list"), st.sampled_from([{}, "[]", 3])),
        st.builds(_broken_book, st.just("token_id"), st.sampled_from(["１２３", "12a", "", 1.5])),
        st.builds(_broken_book, st.just("tick"), st.sampled_from(["0.02", "0", "NaN", "-0.01"])),
        st.builds(  # past year 9999 (found by this fuzzer: it used to raise OverflowError)
            _broken_book, st.just("time"), st.sampled_from(["253402300800000", "1e30", "-1"])
        ),
    )


# --- Gamma -------------------------------------------------------------------------------------

_token_lists = st.one_of(
    st.just('["1", "1"]'),
    st.just('["１２３", "456"]'),
    st.just('["123"]'),
    st.just('["123", "456", "789"]'),
    st.just("[1, 2"),
    st.lists(st.text(max_size=6), max_size=3).map(json.dumps),
)
_outcome_lists = st.one_of(
    st.just('["Yes", "Yes"]'),
    st.just('["Yes"]'),
    st.just('["", "No"]'),
    st.just('["\u202eYes", "No\x00"]'),
    st.lists(st.text(max_size=6), max_size=3).map(json.dumps),
)


def gamma_market_payloads() -> st.SearchStrategy[Any]:
    """Mutated Gamma markets: junk fields, broken JSON-in-JSON, odd numbers and unicode."""
    special = st.one_of(
        st.tuples(st.just("set"), st.just("clobTokenIds"), _token_lists),
        st.tuples(st.just("set"), st.just("outcomes"), _outcome_lists),
        st.tuples(
            st.just("set"),
            st.sampled_from(["orderMinSize", "orderPriceMinTickSize"]),
            st.sampled_from([0, -5, float("nan"), float("inf"), 0.02, "1e999", 10**30]),
        ),
        st.tuples(st.just("set"), st.just("feeSchedule"), mutated(GAMMA_MARKET["feeSchedule"])),
        st.tuples(st.just("set"), st.just("version"), st.sampled_from(["v2", "v3", 2, ""])),
        st.tuples(st.just("set"), st.just("question"), st.text(max_size=30)),
    )
    generic = st.tuples(
        st.sampled_from(["drop", "set"]), st.sampled_from(sorted(GAMMA_MARKET)), junk
    )
    edits = st.lists(st.one_of(special, generic), min_size=1, max_size=3)
    return st.one_of(edits.map(lambda e: _apply(GAMMA_MARKET, e)), junk)


def broken_gamma_markets(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` (an open order-book market) with one defect the edge must refuse."""
    defects = st.sampled_from(
        [
            ("drop", "conditionId", None),
            ("set", "conditionId", "0x12"),
            ("set", "clobTokenIds", '["1", "1"]'),
            ("set", "clobTokenIds", '["１２３", "456"]'),
            ("set", "clobTokenIds", "[1, 2"),
            ("set", "outcomes", '["Yes"]'),
            ("set", "orderMinSize", -5),
            ("set", "orderMinSize", "NaN"),
            ("set", "orderPriceMinTickSize", 0.02),
            ("set", "orderPriceMinTickSize", "Infinity"),
            ("set", "version", "v2"),
            ("set", "feesEnabled", True),
            ("drop", "question", None),
        ]
    )

    def broken(edit: tuple[str, str, Any]) -> dict[str, Any]:
        out = _apply(base, [edit])
        if edit[1] == "feesEnabled":
            out.pop("feeSchedule", None)  # fees on with no schedule: refused, never fee-free
        return out

    return defects.map(broken)


def gamma_event_payloads() -> st.SearchStrategy[Any]:
    """Mutated Gamma events, nested markets included."""
    nested = GAMMA_EVENT["markets"][0]
    markets = st.lists(st.one_of(mutated(nested), junk), max_size=3)
    return st.one_of(
        mutated(GAMMA_EVENT),
        markets.map(lambda m: {**copy.deepcopy(GAMMA_EVENT), "markets": m}),
    )


def clob_market_info_payloads() -> st.SearchStrategy[Any]:
    """Mutated ``/clob-markets/{condition}`` answers."""
    return mutated(CLOB_MARKET_INFO)


# --- CLOB orders, trades, acks -------------------------------------------------------------

ORDER = {
    "id": "0x" + "0a" * 32,
    "status": "ORDER_STATUS_LIVE",
    "owner": "our-api-key",
    "maker_address": "0x" + "11" * 20,
    "market": "0x" + "ab" * 32,
    "asset_id": "1001",
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
TRADE = {
    "id": "trade-1",
    "taker_order_id": "0x" + "0b" * 32,
    "market": "0x" + "ab" * 32,
    "asset_id": "1001",
    "side": "BUY",
    "size": "10",
    "fee_rate_bps": "0",
    "price": "0.46",
    "status": "TRADE_STATUS_MATCHED",
    "match_time": "1788636850",
    "owner": "our-api-key",
    "maker_address": "0x" + "11" * 20,
    "trader_side": "TAKER",
    "maker_orders": [
        {
            "order_id": "0x" + "0d" * 32,
            "asset_id": "1001",
            "maker_address": "0x" + "22" * 20,
            "owner": "their-api-key",
            "side": "SELL",
            "price": "0.45",
            "matched_amount": "10",
            "outcome": "Yes",
        }
    ],
}
POST_ACK = {
    "success": True,
    "errorMsg": "",
    "orderID": "0x" + "0c" * 32,
    "status": "matched",
    "makingAmount": "5.5",
    "takingAmount": "10",
    "transactionsHashes": [],
    "tradeIDs": ["trade-1"],
}


def order_payloads() -> st.SearchStrategy[Any]:
    """Mutated open orders (``/data/order``)."""
    return st.one_of(mutated(ORDER), junk)


def trade_payloads() -> st.SearchStrategy[Any]:
    """Mutated trade rows (``/data/trades``)."""
    return st.one_of(mutated(TRADE), junk)


def post_ack_payloads() -> st.SearchStrategy[Any]:
    """Mutated POST /order answers."""
    return st.one_of(mutated(POST_ACK), junk)
