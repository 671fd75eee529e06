"""Benchmark: what signing and posting one order costs with each Polymarket SDK.

Run (not collected by pytest):

    uv run python bench/sdk_cost.py --orders 200

The emulator runs in this process (``pm_lib.sim.server.running_venue``: a uvicorn thread,
rate limits off, the bench's test key auto-funded). For each SDK the same resting GTC BUY
orders (5 shares at the market's lowest price, on a tick-0.01 market, never matched) are
signed and posted one after the other, after a few warm-up orders (metadata caches filled,
connections open):

- ``v2``: the deprecated ``py-clob-client-v2`` 1.2.1 (a dev dependency): ``create_order``
  (float price and size), ``post_order(..., defer_exec=True)``;
- ``unified``: ``polymarket-client`` 0.14.0: ``SecureClient.create_limit_order`` (Decimal
  price and size) and ``post_order``;
- ``adapter``: pm-agent's ``TradingClient.sign`` (the unified SDK's signing plus the exact
  amounts check, the EIP-712 order hash and the check of that hash against the signature)
  and ``TradingClient.post``.

Sign is the median CPU-bound signing call in microseconds; post is the median of sign + post
in milliseconds (HTTP round trip to the emulator in the same process included). The emulator
shares the process and the machine (2 cores, other work on it): figures are indicative, and
the load average is printed.

Last line: ``v2_sign_us=<a> v2_post_ms=<b> unified_sign_us=<c> unified_post_ms=<d>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account

from pm_lib.auth import credentials_from_mapping
from pm_lib.models import OrderRequest, OrderType, Side
from pm_lib.settings import Settings
from pm_lib.sim.server import running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.venue.sdk_client import open_secure_client
from pm_lib.venue.trading import TradingClient, derive_api_credentials

KEY = "0x" + "5e" * 32  # the bench's own test key, never funded anywhere real
SIZE = Decimal(5)
WARMUP = 5


def _market(venue: SimVenue) -> tuple[str, str, Decimal, bool]:
    """(condition id, YES token, price, neg risk) of a tick-0.01 market: its lowest price."""
    for market in venue.state.markets.values():
        if market.tick_size == Decimal("0.01"):
            return market.condition_id, market.yes_token, market.tick_size, market.neg_risk
    raise SystemExit("no tick-0.01 market in the emulator")


def _measure(n: int, sign: Callable[[], Any], post: Callable[[Any], Any]) -> tuple[float, float]:
    """(median sign µs, median sign + post ms) over ``n`` orders after ``WARMUP``."""
    signs: list[float] = []
    rounds: list[float] = []
    for i in range(WARMUP + n):
        t0 = time.perf_counter()
        order = sign()
        t1 = time.perf_counter()
        post(order)
        t2 = time.perf_counter()
        if i >= WARMUP:
            signs.append((t1 - t0) * 1e6)
            rounds.append((t2 - t0) * 1e3)
    return statistics.median(signs), statistics.median(rounds)


def _v2(clob_url: str, token: str, price: Decimal, neg_risk: bool, n: int) -> tuple[float, float]:
    from py_clob_client_v2.client import ClobClient
    from py_clob_client_v2.clob_types import OrderArgsV2, PartialCreateOrderOptions

    l1 = ClobClient(host=clob_url, chain_id=137, key=KEY)
    client = ClobClient(host=clob_url, chain_id=137, key=KEY, creds=l1.create_or_derive_api_key())
    args = OrderArgsV2(token_id=token, price=float(price), size=float(SIZE), side="BUY")
    options = PartialCreateOrderOptions(tick_size="0.01", neg_risk=neg_risk)

    def post(order: Any) -> None:
        answer = client.post_order(order, "GTC", defer_exec=True)
        assert answer.get("success"), answer

    return _measure(n, lambda: client.create_order(args, options), post)


def _unified(settings: Settings, token: str, price: Decimal, n: int) -> tuple[float, float]:
    credentials = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})
    with open_secure_client(settings, credentials) as client:

        def sign() -> Any:
            return client.create_limit_order(token_id=token, price=price, size=SIZE, side="BUY")

        def post(order: Any) -> None:
            answer = client.post_order(order)
            assert answer.ok, answer

        return _measure(n, sign, post)


def _adapter(
    settings: Settings, condition: str, token: str, price: Decimal, neg_risk: bool, n: int
) -> tuple[float, float]:
    keys = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})
    api = derive_api_credentials(settings.clob_url, settings.chain_id, keys, settings=settings)
    client = TradingClient.connect(settings, keys.with_api(api))
    counter = iter(range(10**9))

    def sign() -> Any:
        request = OrderRequest(
            intent_key=f"bench:{next(counter)}",
            condition_id=condition,
            token_id=token,
            side=Side.BUY,
            size=SIZE,
            price=price,
            order_type=OrderType.GTC,
            tick_size=Decimal("0.01"),
            neg_risk=neg_risk,
        )
        return client.sign(request)

    try:
        return _measure(n, sign, client.post)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="orders per SDK (after warm-up)")
    args = parser.parse_args()
    venue = SimVenue(SimConfig(seed=11, markets=20, enforce_rate_limits=False))
    condition, token, price, neg_risk = _market(venue)
    with running_venue(venue) as running:
        settings = Settings(_env_file=None, clob_url=running.clob_url, gamma_url=running.gamma_url)
        print(f"emulator {running.clob_url}; signer {Account.from_key(KEY).address}")
        print(f"{args.orders} GTC BUY orders per SDK, {SIZE} @ {price}, token {token[:12]}...")
        v2 = _v2(running.clob_url, token, price, neg_risk, args.orders)
        unified = _unified(settings, token, price, args.orders)
        adapter = _adapter(settings, condition, token, price, neg_risk, args.orders)
    for name, (sign_us, post_ms) in (("v2", v2), ("unified", unified), ("adapter", adapter)):
        print(f"{name:8s} sign {sign_us:8.0f} µs   sign+post {post_ms:7.2f} ms")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)")
    print(
        f"v2_sign_us={v2[0]:.0f} v2_post_ms={v2[1]:.2f} "
        f"unified_sign_us={unified[0]:.0f} unified_post_ms={unified[1]:.2f}"
    )


if __name__ == "__main__":
    main()
