"""The venue edge: Polymarket JSON in, ``pm_lib.models`` (and a few wire result models) out.

Every venue payload is parsed here exactly once; past this module nothing handles a raw dict.
Anything malformed raises ``pm_lib.errors.BadVenueData(kind, ident, reason)``, which the
caller turns into a skipped item. The parsers live in small modules by subject:

- ``wire_gamma``: Gamma markets and events, the CLOB's ``/clob-markets`` info, token-order check;
- ``wire_book``: CLOB books (best first) and the venue's book hash;
- ``wire_orders``: order/trade statuses, POST /order acks, orders, trades, balances, cancels;
- ``wire_fields``: the shared field decoders (exact ``Decimal`` through ``str()``).
"""

from __future__ import annotations

from pm_lib.venue.wire_book import book_hash, parse_book
from pm_lib.venue.wire_fields import TICK_SIZES, to_decimal
from pm_lib.venue.wire_gamma import (
    ClobMarketInfo,
    check_outcome_tokens,
    is_open_order_book_market,
    parse_clob_market_info,
    parse_gamma_event,
    parse_gamma_market,
    parse_gamma_resolution,
    parse_gamma_updated_at,
    resolution_agrees_with_clob,
)
from pm_lib.venue.wire_orders import (
    CancelResult,
    PostOrderAck,
    SizeUnits,
    VenueOrder,
    normalise_order_status,
    normalise_trade_status,
    parse_balance_allowance,
    parse_cancel_response,
    parse_open_order,
    parse_post_order_response,
    parse_trade,
)

__all__ = [
    "TICK_SIZES",
    "CancelResult",
    "ClobMarketInfo",
    "PostOrderAck",
    "SizeUnits",
    "VenueOrder",
    "book_hash",
    "check_outcome_tokens",
    "is_open_order_book_market",
    "normalise_order_status",
    "normalise_trade_status",
    "parse_balance_allowance",
    "parse_book",
    "parse_cancel_response",
    "parse_clob_market_info",
    "parse_gamma_event",
    "parse_gamma_market",
    "parse_gamma_resolution",
    "parse_gamma_updated_at",
    "parse_open_order",
    "parse_post_order_response",
    "parse_trade",
    "resolution_agrees_with_clob",
    "to_decimal",
]
