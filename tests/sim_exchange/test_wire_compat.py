"""What the emulator answers, pm-agent's own venue parsers (``pm_lib.venue.wire_orders``) read."""

from __future__ import annotations

from decimal import Decimal

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    BalanceAllowanceParams,
    OrderArgs,
    OrderPayload,
    OrderType,
    PartialCreateOrderOptions,
)

from pm_lib.models import OrderStatus, Side, TradeStatus
from pm_lib.sim.server import RunningVenue
from pm_lib.venue.wire_orders import (
    parse_balance_allowance,
    parse_cancel_response,
    parse_open_order,
    parse_post_order_response,
    parse_trade,
)
from tests.sim_exchange.emulated_venue import KEY_A, KEY_B, NO, YES, authed_client

OPTS = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)


def _post(client: ClobClient, price: float, size: float, token: str, kind: str) -> dict[str, str]:
    args = OrderArgs(token_id=token, price=price, size=size, side="BUY")
    result = client.create_and_post_order(args, OPTS, order_type=kind)
    assert isinstance(result, dict)
    return result


def test_resting_order_parses_as_live_with_its_sizes(client: ClobClient) -> None:
    ack = parse_post_order_response(_post(client, 0.45, 10, YES, OrderType.GTC))

    order = parse_open_order(client.get_order(ack.order_id))

    assert ack.status is OrderStatus.LIVE
    assert (order.status, order.side, order.price) == (OrderStatus.LIVE, Side.BUY, Decimal("0.45"))
    assert (order.original_size, order.size_matched) == (Decimal(10), Decimal(0))


def test_cancel_answer_parses(client: ClobClient) -> None:
    order_id = _post(client, 0.45, 10, YES, OrderType.GTC)["orderID"]

    result = parse_cancel_response(client.cancel_order(OrderPayload(orderID=order_id)))

    assert result.canceled == (order_id,)


def test_trade_parses_for_taker_and_maker(running: RunningVenue) -> None:
    maker = authed_client(running, KEY_A)
    taker = authed_client(running, KEY_B)
    maker_order = _post(maker, 0.52, 10, YES, OrderType.GTC)["orderID"]
    _post(taker, 0.48, 10, NO, OrderType.FOK)
    assert maker.creds is not None and taker.creds is not None

    taker_row, maker_row = taker.get_trades()[0], maker.get_trades()[0]
    assert (taker_row["trader_side"], maker_row["trader_side"]) == ("TAKER", "MAKER")
    taker_fills = parse_trade(taker_row, owner=taker.creds.api_key)
    maker_fills = parse_trade(maker_row, owner=maker.creds.api_key)
    assert parse_trade(maker_row, owner=taker.creds.api_key) == []  # trader_side decides

    assert [(f.side, f.token_id, f.size, f.price) for f in taker_fills] == [
        (Side.BUY, NO, Decimal(10), Decimal("0.48"))
    ]
    assert [(f.order_id, f.side, f.token_id, f.is_taker) for f in maker_fills] == [
        (maker_order, Side.BUY, YES, False)
    ]
    assert taker_fills[0].status is TradeStatus.MATCHED


def test_balance_parses_to_units(client: ClobClient) -> None:
    raw = client.get_balance_allowance(BalanceAllowanceParams(asset_type="COLLATERAL"))

    balance, allowances = parse_balance_allowance(raw)

    assert balance == Decimal(10_000)
    assert len(allowances) == 3
