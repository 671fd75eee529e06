"""The venue's order rules, as paper trading applies them (same texts as the live venue).

Before matching: the price on the book's tick and inside ``[tick, 1 - tick]``; the signed amounts
within the venue's decimals (``book_math.precision_problem``); GTC/GTD at least the book's
``min_order_size`` shares; post-only only on GTC/GTD; GTD expiring at least a minute ahead.
After matching: FOK fills whole, FAK fills something, post-only fills nothing, FOK/FAK worth at
least $1. Texts are the live ones (docs/VENUE.md 2.4; ``pm_lib.book_math`` module docstring).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pm_lib.book_math import is_valid_price, precision_problem
from pm_lib.models import OrderBook, OrderRequest, OrderType

__all__ = [
    "FAK_NO_MATCH",
    "FOK_NOT_FILLED",
    "GTD_MIN_LEAD",
    "MARKETABLE_MIN_NOTIONAL",
    "NOT_ENOUGH_BALANCE",
    "NO_BOOK",
    "POST_ONLY_CROSSES",
    "fill_refusal",
    "order_refusal",
]

NO_BOOK = "No orderbook exists for the requested token id"
NOT_ENOUGH_BALANCE = "not enough balance / allowance"
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
    "match is found."
)
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
MARKETABLE_MIN_NOTIONAL = Decimal(1)
GTD_MIN_LEAD = timedelta(seconds=60)  # "now + 60 s + N" (docs/VENUE.md 3.3)


def order_refusal(request: OrderRequest, book: OrderBook, now: datetime) -> str | None:
    """Why the venue would refuse ``request`` before matching it, or None."""
    tick = max(book.tick_size, request.tick_size)
    if not is_valid_price(request.price, tick):
        return (
            f"order {request.intent_key} is invalid. Price ({request.price}) breaks minimum "
            f"tick size rule: {tick}"
        )
    if request.size <= 0:
        return f"order {request.intent_key} is invalid. Size ({request.size}) is not positive"
    problem = precision_problem(request.side, request.size, request.price, tick, request.order_type)
    if problem is not None:
        return f"invalid amounts: {problem}"
    resting_type = request.order_type in (OrderType.GTC, OrderType.GTD)
    if resting_type and request.size < book.min_order_size:
        return (
            f"order {request.intent_key} is invalid. Size ({request.size}) lower than the "
            f"minimum: {book.min_order_size}"
        )
    if request.post_only and not resting_type:
        return "invalid post-only order: only GTC and GTD orders can be post-only"
    if request.order_type is OrderType.GTD and (
        request.expiration is None or request.expiration < now + GTD_MIN_LEAD
    ):
        return f"order {request.intent_key} is invalid. Expiration must be at least 60 s ahead"
    return None


def fill_refusal(request: OrderRequest, filled: Decimal, notional: Decimal) -> str | None:
    """Why the venue would refuse ``request`` once it knows what would fill, or None."""
    if request.post_only and filled > 0:
        return POST_ONLY_CROSSES
    if request.order_type is OrderType.FOK and filled < request.size:
        return FOK_NOT_FILLED
    if request.order_type is OrderType.FAK and filled <= 0:
        return FAK_NO_MATCH
    if request.order_type.is_marketable_only and notional < MARKETABLE_MIN_NOTIONAL:
        return (
            f"invalid amount for a marketable {request.side} order (${notional}), "
            f"min size: ${MARKETABLE_MIN_NOTIONAL}"
        )
    return None
