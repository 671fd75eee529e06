"""The venue's order rules, each a pure check that raises ``OrderRejected`` with the live text.

What a V2 order means: a BUY gives ``makerAmount`` pUSD for ``takerAmount`` shares, a SELL gives
``makerAmount`` shares for ``takerAmount`` pUSD (both 6-decimal base units). So the size in
shares is takerAmount (BUY) or makerAmount (SELL), and the limit price is the ratio of the two.
Limit orders from the SDK land exactly on a tick; market orders (FOK/FAK) carry an amount rounded
to 4-6 decimals, so their ratio sits within a hair of a tick. The tick rule allows 1/100 of a
tick of such rounding, matches on the exact ratio, and rests on the nearest tick.

Error texts: quoted from live responses where one was seen (docs/VENUE.md 2.4; py-clob-client
issues #301 for the minimum size, nautilus_trader#3874 and JKorf/Polymarket.Net#27 for the $1
marketable minimum, whose wording here is a best recollection). Where no live text is known
the message names the docs' error code (INVALID_ORDER_EXPIRATION, INVALID_ORDER_DUPLICATED,
INVALID_POST_ONLY_ORDER_TYPE) and the body carries ``code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pm_lib.book_math import MARKETABLE_AMOUNT_DECIMALS, ROUNDING_CONFIG, decimal_places
from pm_lib.sim.lifecycle import decimal_text
from pm_lib.sim.signing import OrderRejected, SignedOrder

__all__ = [
    "NOT_ENOUGH_BALANCE",
    "ORDER_TYPES",
    "CodedRejection",
    "OrderTerms",
    "check_amount_precision",
    "check_fill_outcome",
    "check_marketable_notional",
    "check_min_size",
    "check_time_in_force",
    "order_terms",
]

ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")
NOT_ENOUGH_BALANCE = "not enough balance / allowance"
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
    "match is found."
)
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
UNIT = Decimal(1_000_000)


class CodedRejection(OrderRejected):
    """A rejection whose body also carries the docs' error ``code``."""

    def __init__(
        self, message: str, code: str, status: int = 400, retry_after: int | None = None
    ) -> None:
        super().__init__(message, status)
        self.code = code
        self.retry_after = retry_after  # seconds, for a window that will end (503, 425)


@dataclass(frozen=True)
class OrderTerms:
    """What a signed order asks for, in shares and pUSD per share."""

    side: str
    size: Decimal  # shares
    limit: Decimal  # exact signed ratio, pUSD per share
    tick_price: Decimal  # the limit on the market's tick grid


def order_terms(order_id: str, order: SignedOrder, tick: Decimal) -> OrderTerms:
    """Size, limit and tick price of ``order``; rejects prices off the tick grid."""
    maker, taker = Decimal(order.maker_amount), Decimal(order.taker_amount)
    if order.side == "BUY":
        size, limit = taker / UNIT, maker / taker
    else:
        size, limit = maker / UNIT, taker / maker
    tick_price = (limit / tick).to_integral_value(rounding=ROUND_HALF_UP) * tick
    if abs(limit - tick_price) > tick / 100 or not tick <= tick_price <= 1 - tick:
        shown = decimal_text(limit.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))
        raise OrderRejected(
            f"order {order_id} is invalid. Price ({shown}) breaks minimum tick size rule: "
            f"{decimal_text(tick)}"
        )
    return OrderTerms(side=order.side, size=size, limit=limit, tick_price=tick_price)


def check_time_in_force(
    order_id: str,
    order_type: str,
    post_only: bool,
    expiration: int,
    now: float,
    min_lead_seconds: float,
) -> None:
    """Order type, post-only eligibility and GTD expiration."""
    if order_type not in ORDER_TYPES:
        raise OrderRejected(f"invalid order type: {order_type}")
    if post_only and order_type not in ("GTC", "GTD"):
        raise CodedRejection(
            "invalid post-only order: only GTC and GTD orders can be post-only",
            "INVALID_POST_ONLY_ORDER_TYPE",
        )
    if order_type == "GTD" and expiration < now + min_lead_seconds:
        raise CodedRejection(
            f"order {order_id} is invalid. Expiration ({expiration}) must be at least "
            f"{int(min_lead_seconds)} seconds in the future",
            "INVALID_ORDER_EXPIRATION",
        )


def check_min_size(order_id: str, order_type: str, size: Decimal, minimum: Decimal) -> None:
    """Resting order types need ``min_order_size`` shares; FOK/FAK have a $ floor instead."""
    if order_type in ("GTC", "GTD") and size < minimum:
        raise OrderRejected(
            f"order {order_id} is invalid. Size ({decimal_text(size)}) lower than the minimum: "
            f"{decimal_text(minimum)}"
        )


def check_amount_precision(order: SignedOrder, order_type: str, tick: Decimal) -> None:
    """Signed amounts within the decimals the venue accepts (rules in ``pm_lib.book_math``).

    Limit orders: shares to 2 decimals, pUSD to the tick's amount decimals; FOK/FAK: maker
    amount to 2 and taker amount to 4 decimals (py-clob-client issues #121, #305).
    """
    maker = Decimal(order.maker_amount) / UNIT
    taker = Decimal(order.taker_amount) / UNIT
    side = order.side.lower()
    if order_type in ("FOK", "FAK"):
        max_maker, max_taker = MARKETABLE_AMOUNT_DECIMALS
        kind = f"market {side} orders"
    else:
        config = ROUNDING_CONFIG.get(tick.normalize()) or ROUNDING_CONFIG.get(tick)
        amount = config.amount if config is not None else 6
        max_maker, max_taker = (amount, 2) if order.side == "BUY" else (2, amount)
        kind = f"{side} orders"
    if decimal_places(maker) > max_maker or decimal_places(taker) > max_taker:
        raise OrderRejected(
            f"invalid amounts, the {kind} maker amount supports a max accuracy of {max_maker} "
            f"decimals, taker amount a max of {max_taker} decimals"
        )


def check_fill_outcome(order_type: str, size: Decimal, filled: Decimal, post_only: bool) -> None:
    """FOK must fill whole, FAK must fill something, post-only must not fill at all."""
    if post_only and filled > 0:
        raise OrderRejected(POST_ONLY_CROSSES)
    if order_type == "FOK" and filled < size:
        raise OrderRejected(FOK_NOT_FILLED)
    if order_type == "FAK" and filled <= 0:
        raise OrderRejected(FAK_NO_MATCH)


def check_marketable_notional(
    order_type: str, side: str, notional: Decimal, minimum: Decimal
) -> None:
    """FOK/FAK executions must be worth at least ``minimum`` pUSD.

    ``notional`` is what the order executes (the matched fills at their own prices), not the
    signed ``size x limit``: FOK BUY 10 @ 0.11 against asks 0.05 x 8, 0.11 x 100 executes 0.62
    and is refused though it signs 1.10. Limit orders (GTC/GTD) are not checked: whether the
    venue applies the floor to the crossing part of a marketable limit order is not recorded
    (pm-agent's risk gate does, which can only refuse more).
    """
    if order_type in ("FOK", "FAK") and notional < minimum:
        shown = decimal_text(notional.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        raise OrderRejected(
            f"invalid amount for a marketable {side} order (${shown}), "
            f"min size: ${decimal_text(minimum)}"
        )
