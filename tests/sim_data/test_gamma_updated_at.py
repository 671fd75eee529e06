"""The emulator's Gamma ``updatedAt``: set at creation, bumped by changes, listable by it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


@pytest.fixture(scope="module")
def http(clob: httpx.Client) -> httpx.Client:
    """The module's own venue (``served`` is module-scoped): these tests change its markets."""
    return clob


def newest(http: httpx.Client, kind: str, limit: int = 5) -> list[dict[str, Any]]:
    params = {"order": "updatedAt", "ascending": "false", "limit": limit}
    response = http.get(f"/gamma/{kind}/keyset", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()[kind]
    return rows


def all_pages(http: httpx.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = dict(params, **({"after_cursor": cursor} if cursor else {}))
        body = http.get("/gamma/markets/keyset", params=query).json()
        rows.extend(body["markets"])
        cursor = body.get("next_cursor")
        if not cursor:
            return rows


def test_listing_by_updated_at_descending_is_in_that_order_across_pages(
    http: httpx.Client,
) -> None:
    rows = all_pages(http, {"order": "updatedAt", "ascending": "false", "limit": 50})
    stamps = [r["updatedAt"] for r in rows]
    assert len(rows) == 300 and stamps == sorted(stamps, reverse=True)


def test_updated_at_stays_put_while_nothing_changes(http: httpx.Client) -> None:
    assert newest(http, "markets") == newest(http, "markets")


def test_a_changed_market_and_its_event_come_first(http: httpx.Client) -> None:
    target = newest(http, "markets", 100)[-1]
    tick = "0.01" if target["orderPriceMinTickSize"] != 0.01 else "0.001"
    patched = http.patch(f"/_sim/markets/{target['conditionId']}", json={"tick_size": tick})
    assert patched.status_code == 200

    first = newest(http, "markets", 1)[0]
    assert first["conditionId"] == target["conditionId"]
    assert first["updatedAt"] > target["updatedAt"]
    assert newest(http, "events", 1)[0]["id"] == target["events"][0]["id"]


def test_a_patch_that_changes_nothing_keeps_updated_at(http: httpx.Client) -> None:
    target = newest(http, "markets", 100)[-1]
    same = {"closed": target["closed"]}
    assert http.patch(f"/_sim/markets/{target['conditionId']}", json=same).status_code == 200
    assert newest(http, "markets", 1)[0]["conditionId"] != target["conditionId"]


def test_a_new_market_comes_first(http: httpx.Client) -> None:
    added = http.post("/_sim/markets", json={"price": "0.3"}).json()
    assert newest(http, "markets", 1)[0]["conditionId"] == added["condition_id"]


def test_other_orders_still_list(http: httpx.Client) -> None:
    for order in ("id", "volumeNum", "liquidityNum", "endDate", "slug"):
        rows = all_pages(http, {"order": order, "limit": 100})
        assert len({r["conditionId"] for r in rows}) == len(rows) >= 300, order
