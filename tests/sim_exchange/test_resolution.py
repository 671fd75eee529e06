"""Resolving markets through ``POST /_sim/markets/{condition_id}/resolve`` (docs/EMULATOR.md).

A resolved market is closed, its resting orders are cancelled as
``ORDER_STATUS_CANCELED_MARKET_RESOLVED``, its books are gone (404), Gamma shows the final
``outcomePrices`` and ``umaResolutionStatus: "resolved"``, the CLOB market flags the winner, and
in a neg-risk event resolving one market "Yes" resolves its siblings "No".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from py_clob_client_v2.clob_types import OrderArgs, OrderType, PartialCreateOrderOptions

from pm_lib.sim.server import RunningVenue, running_venue
from tests.execution.emulator import COND, NEG_RISK, YES, make_venue
from tests.sim_exchange.emulated_venue import authed_client


@pytest.fixture
def running() -> Iterator[RunningVenue]:
    with running_venue(make_venue()) as r:
        yield r


def _resolve(running: RunningVenue, condition: str, outcome: str) -> httpx.Response:
    return httpx.post(
        f"{running.clob_url}/_sim/markets/{condition}/resolve",
        json={"outcome": outcome},
        timeout=10,
    )


def _gamma(running: RunningVenue, condition: str) -> dict[str, Any]:
    page = httpx.get(
        f"{running.gamma_url}/markets/keyset",
        params={"condition_ids": condition, "closed": "true"},
        timeout=10,
    ).json()
    [row] = page["markets"]
    return dict(row)


def test_a_resolved_market_closes_cancels_its_orders_and_shows_its_payouts(
    running: RunningVenue,
) -> None:
    client = authed_client(running)
    opts = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)
    order = client.create_and_post_order(
        OrderArgs(token_id=YES, price=0.45, size=10, side="BUY"), opts, order_type=OrderType.GTC
    )
    assert order["status"] == "live"

    answer = _resolve(running, COND, "No")

    assert answer.status_code == 200
    assert answer.json()["resolved"] == [{"condition_id": COND, "winner": "No"}]
    assert client.get_order(order["orderID"])["status"] == "ORDER_STATUS_CANCELED_MARKET_RESOLVED"
    book = httpx.get(f"{running.clob_url}/book", params={"token_id": YES}, timeout=10)
    assert book.status_code == 404
    row = _gamma(running, COND)
    assert (row["closed"], row["acceptingOrders"], row["umaResolutionStatus"]) == (
        True,
        False,
        "resolved",
    )
    assert json.loads(row["outcomePrices"]) == ["0", "1"]
    clob = httpx.get(f"{running.clob_url}/markets/{COND}", timeout=10).json()
    assert [(t["outcome"], t["winner"], t["price"]) for t in clob["tokens"]] == [
        ("Yes", False, 0),
        ("No", True, 1),
    ]
    # again, same outcome: nothing changes; the other outcome: refused
    assert _resolve(running, COND, "No").json()["resolved"] == []
    assert _resolve(running, COND, "Yes").status_code == 400
    assert _resolve(running, COND, "Maybe").status_code == 400


def test_resolving_a_neg_risk_leg_yes_resolves_its_siblings_no(running: RunningVenue) -> None:
    (winner, _, _), *others = NEG_RISK

    answer = _resolve(running, winner, "Yes").json()

    assert answer["resolved"] == [{"condition_id": winner, "winner": "Yes"}] + [
        {"condition_id": c, "winner": "No"} for c, _, _ in others
    ]
    assert json.loads(_gamma(running, winner)["outcomePrices"]) == ["1", "0"]
    for condition, _, _ in others:
        row = _gamma(running, condition)
        assert (row["closed"], json.loads(row["outcomePrices"])) == (True, ["0", "1"])
