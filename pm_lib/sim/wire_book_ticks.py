"""The /book bodies of an untouched background book from integer levels (ticks and cents).

Byte for byte what ``wire_out.book_json_levels`` writes for the same book (the venue's key
order, best price last, genuine hash; docs/VENUE.md 4.3), built as text from per-tick price
strings made once per tick size, so a cold scan does no Decimal arithmetic or formatting per
level. A ``TickBook`` formats a market's sizes and static fields once for both of its tokens.
Only the two ids go through orjson (they may need escaping in a loaded universe); every other
field is digits and dots. ``tests/sim_data/test_book_fast_path.py`` compares the serialisers
on thousands of books.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import orjson

from pm_lib.sim.depth_ticks import TickLevels
from pm_lib.sim.state import SimMarket
from pm_lib.sim.wire_out import decimal_str, last_trade_str

__all__ = ["TickBook", "cents_str"]

_ONE = Decimal(1)
# tick -> '{"price":"<n * tick>","size":"' for n in 0..1/tick
_LEVEL_HEADS: dict[Decimal, list[str]] = {}

Side = list[tuple[int, str]]  # (price in ticks, '<size>"}'), best price LAST


def _level_heads(tick: Decimal, count: int) -> list[str]:
    heads = _LEVEL_HEADS.get(tick)
    if heads is None or len(heads) != count + 1:
        heads = [f'{{"price":"{decimal_str(tick * n)}","size":"' for n in range(count + 1)]
        _LEVEL_HEADS[tick] = heads
    return heads


def cents_str(cents: int) -> str:
    """A size of at least 100 cents as the CLOB prints it ("12.3", "12.34", "12"):
    ``decimal_str`` of ``cents / 100``."""
    text = str(cents)  # at least "100": sizes are at least one share
    if text[-1] != "0":
        return text[:-2] + "." + text[-2:]
    if text[-2] != "0":
        return text[:-2] + "." + text[-2]
    return text[:-2]


def _side(levels: TickLevels) -> Side:
    return [(p, cents_str(s) + '"}') for p, s in reversed(levels)]


class TickBook:
    """One market's background book (YES terms, levels best first, ticks and cents) ready to
    serialise for either token; the market must have a tick that divides 1 into ``count``."""

    __slots__ = ("_asks", "_bids", "_heads", "_ltp", "_opening", "_static", "count", "market")

    def __init__(
        self,
        market: SimMarket,
        yes_book: tuple[TickLevels, TickLevels, Decimal | None],
        count: int,
    ) -> None:
        self.market = market
        self.count = count
        self._bids, self._asks = _side(yes_book[0]), _side(yes_book[1])
        self._ltp = yes_book[2]
        self._heads = _level_heads(market.tick_size, count)
        self._opening = f'{{"market":{orjson.dumps(market.condition_id).decode()},"asset_id":'
        self._static = (
            f'"min_order_size":"{decimal_str(market.min_order_size)}",'
            f'"tick_size":"{decimal_str(market.tick_size)}",'
            f'"neg_risk":{"true" if market.neg_risk else "false"},"last_trade_price":"'
        )

    def _levels(self, side: Side, mirror: int) -> str:
        """One side as a JSON array body; prices ``mirror - n`` ticks when ``mirror`` is set
        (the NO token's reflection: NO bid q = YES ask 1 - q)."""
        heads = self._heads
        if mirror:
            return ",".join([heads[mirror - p] + s for p, s in side])
        return ",".join([heads[p] + s for p, s in side])

    def body(self, is_yes: bool, timestamp_ms: int) -> bytes:
        """The /book body of the YES or NO token, best price last, with the genuine hash."""
        market = self.market
        ltp = self._ltp
        if is_yes:
            token = market.yes_token
            bids, asks = self._levels(self._bids, 0), self._levels(self._asks, 0)
        else:
            token = market.no_token
            bids = self._levels(self._asks, self.count)
            asks = self._levels(self._bids, self.count)
            ltp = _ONE - ltp if ltp is not None else None
        head = (
            f'{self._opening}{orjson.dumps(token).decode()},"timestamp":"{timestamp_ms}","hash":"'
        ).encode()
        rest = (
            f'","bids":[{bids}],"asks":[{asks}],{self._static}{last_trade_str(ltp)}"}}'
        ).encode()
        digest = hashlib.sha1(head + rest).hexdigest().encode()
        return head + digest + rest
