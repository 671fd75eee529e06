"""The live executor on the emulator with the real SDK: the order lifecycle, fills and fees.

Binary market (tests/execution/emulator.py): YES asks 0.55 x 100, 0.56 x 200; bids 0.50 x 100,
0.49 x 200; taker fee rate 0.04. The wallet starts with 10,000 pUSD (autofund).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from pm_lib.execution.live import LiveExecutor
from pm_lib.models import OrderRequest, OrderStatus, OrderType, Side
from pm_lib.store import fills, intent_by_key, session_scope
from tests.execution.builders import request
from tests.execution.emulator import COND, FEES, YES

START = Decimal("10000")


def buy_yes(key: str, size: str, price: str, order_type: OrderType) -> OrderRequest:
    return request(key, Side.BUY, size, price, order_type, token=YES, condition=COND, fees=FEES)


def test_fok_buy_fills_and_stores_fill_fee_and_intent(live: LiveExecutor, engine: Engine) -> None:
    [result] = live.place([buy_yes("r1:o:0", "10", "0.55", OrderType.FOK)])
    # 10 @ 0.55 = 5.50; fee 10 x 0.04 x 0.55 x 0.45 = 0.099
    assert (result.status, result.filled_size, result.fee) == (
        OrderStatus.MATCHED,
        Decimal("10"),
        Decimal("0.099"),
    )
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:o:0")
        stored = fills(session, "live")
    assert row is not None and row.venue_order_id == result.order_id
    assert [(f.size, f.price, f.fee) for f in stored] == [
        (Decimal("10"), Decimal("0.55"), Decimal("0.099"))
    ]
    assert live.balance() == START - Decimal("5.599")
