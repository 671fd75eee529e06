"""V2 order signatures: the emulator's hash is the SDK's, and only the right signer/domain pass."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from py_clob_client_v2.clob_types import CreateOrderOptions, OrderArgsV1, OrderArgsV2
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v1 import order_to_json_v1
from py_clob_client_v2.order_utils.model.order_data_v2 import SignedOrderV2, order_to_json_v2
from py_clob_client_v2.signer import Signer

from pm_lib.sim.accounts import EXCHANGE_V2, NEG_RISK_EXCHANGE_V2
from pm_lib.sim.signing import (
    INVALID_SIGNATURE,
    OrderRejected,
    exchange_for,
    order_hash,
    parse_order_payload,
    verify_order_signature,
)
from tests.sim_exchange.emulated_venue import KEY_A, KEY_B, YES

WALLET = "0x" + "7a" * 20


def _signed(
    *, neg_risk: bool = False, signature_type: int = 0, funder: str | None = None
) -> SignedOrderV2:
    builder = OrderBuilder(Signer(KEY_A, 137), signature_type=signature_type, funder=funder)
    order = builder.build_order(
        OrderArgsV2(token_id=YES, price=0.45, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.01", neg_risk=neg_risk),
        version=2,
    )
    assert isinstance(order, SignedOrderV2)
    return order


def _body(order: SignedOrderV2) -> dict[str, Any]:
    return order_to_json_v2(order, "owner-key", "GTC")


@pytest.mark.parametrize("neg_risk", [False, True])
def test_order_hash_is_the_sdk_order_hash(neg_risk: bool) -> None:
    order = _signed(neg_risk=neg_risk)
    exchange = exchange_for(neg_risk)
    sdk = ExchangeOrderBuilderV2(exchange, 137, Signer(KEY_A, 137))

    expected = sdk.build_order_hash(sdk.build_order_typed_data(order))

    assert order_hash(parse_order_payload(_body(order)).order, exchange, 137) == expected


def test_eoa_order_recovers_to_its_signer_on_its_exchange() -> None:
    payload = parse_order_payload(_body(_signed()))

    assert (
        verify_order_signature(payload.order, EXCHANGE_V2, 137, {}) == Signer(KEY_A, 137).address()
    )


def test_order_signed_for_the_other_exchange_is_rejected() -> None:
    payload = parse_order_payload(_body(_signed(neg_risk=True)))

    with pytest.raises(OrderRejected, match=INVALID_SIGNATURE):
        verify_order_signature(payload.order, EXCHANGE_V2, 137, {})


def test_order_with_a_changed_amount_is_rejected() -> None:
    order = dataclasses.replace(_signed(), takerAmount="20000000")

    with pytest.raises(OrderRejected, match=INVALID_SIGNATURE):
        verify_order_signature(parse_order_payload(_body(order)).order, EXCHANGE_V2, 137, {})


def test_eoa_order_whose_maker_is_not_the_signer_is_rejected() -> None:
    order = _signed(funder=Signer(KEY_B, 137).address())

    with pytest.raises(OrderRejected, match=INVALID_SIGNATURE):
        verify_order_signature(parse_order_payload(_body(order)).order, EXCHANGE_V2, 137, {})


def test_proxy_order_needs_the_configured_wallet_of_its_signer() -> None:
    order = parse_order_payload(_body(_signed(signature_type=1, funder=WALLET))).order
    eoa = Signer(KEY_A, 137).address().lower()

    assert verify_order_signature(order, EXCHANGE_V2, 137, {eoa: WALLET}).lower() == eoa
    with pytest.raises(OrderRejected, match=INVALID_SIGNATURE):
        verify_order_signature(order, EXCHANGE_V2, 137, {})


def test_deposit_wallet_order_recovers_the_owning_eoa() -> None:
    order = parse_order_payload(_body(_signed(signature_type=3, funder=WALLET))).order
    eoa = Signer(KEY_A, 137).address().lower()

    assert verify_order_signature(order, EXCHANGE_V2, 137, {eoa: WALLET}).lower() == eoa
    with pytest.raises(OrderRejected, match=INVALID_SIGNATURE):
        verify_order_signature(order, NEG_RISK_EXCHANGE_V2, 137, {eoa: WALLET})


def test_v1_shaped_order_is_an_order_version_mismatch() -> None:
    builder = OrderBuilder(Signer(KEY_A, 137))
    v1 = builder.build_order(
        OrderArgsV1(token_id=YES, price=0.45, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.01", neg_risk=False),
        version=1,
        fee_rate_bps=0,
    )

    with pytest.raises(OrderRejected, match="order_version_mismatch"):
        parse_order_payload(order_to_json_v1(v1, "owner-key", "GTC"))
