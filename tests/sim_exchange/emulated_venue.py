"""A hand-built emulated venue (two markets) and real SDK clients against it.

The markets and their background liquidity are put into a caller-owned ``VenueState``
directly, so the market-data side keeps them static (no generated universe, no evolution);
the SDK's public calls (/version, /tick-size, /neg-risk, /markets-by-token, /clob-markets,
/book) are served by the real public routes.
"""

from __future__ import annotations

import json
from collections import deque
from decimal import Decimal
from typing import Any

import httpx
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import ApiCreds, RequestArgs
from py_clob_client_v2.headers.headers import create_level_2_headers

from pm_lib.sim.server import RunningVenue
from pm_lib.sim.state import Ladder, RestingOrder, SimMarket, VenueState
from pm_lib.sim.venue import SimConfig, SimVenue

# Well-known test keys (never funded anywhere real).
KEY_A = "0x" + "11" * 32
KEY_B = "0x" + "22" * 32

YES = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
NO = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
NR_YES = "32338220190071351435772801779725302244575775216413325951443816017994629993401"
NR_NO = "11015470973684177829729219287262166995141465048508201953575582100565462316088"
COND = "0x" + "ab" * 32
NR_COND = "0x" + "cd" * 32


def _level(prefix: str, yes_side: str, price: str, size: str) -> deque[RestingOrder]:
    order = RestingOrder(
        order_id=f"bg-{prefix}-{price}",
        yes_side=yes_side,
        yes_price=Decimal(price),
        remaining=Decimal(size),
    )
    return deque([order])


def background_ladder(prefix: str) -> Ladder:
    """YES bids 0.50 x 100, 0.49 x 200; YES asks 0.55 x 100, 0.56 x 200 (owner=None)."""
    return Ladder(
        bids={
            Decimal("0.50"): _level(prefix, "BUY", "0.50", "100"),
            Decimal("0.49"): _level(prefix, "BUY", "0.49", "200"),
        },
        asks={
            Decimal("0.55"): _level(prefix, "SELL", "0.55", "100"),
            Decimal("0.56"): _level(prefix, "SELL", "0.56", "200"),
        },
    )


def make_venue(config: SimConfig | None = None) -> SimVenue:
    """A venue with a fee-charging binary market and a neg-risk one, both tick 0.01."""
    venue = SimVenue(config or SimConfig(), state=VenueState())
    venue.state.add_market(
        SimMarket(
            condition_id=COND,
            market_id="1001",
            question="Will the emulator match orders?",
            slug="emulator-matches",
            outcomes=("Yes", "No"),
            token_ids=(YES, NO),
            tick_size=Decimal("0.01"),
            fees_enabled=True,
            fee_type="politics_fees",
            fee_rate=Decimal("0.04"),
            fee_exponent=Decimal(1),
        ),
        background_ladder("m1"),
    )
    venue.state.add_market(
        SimMarket(
            condition_id=NR_COND,
            market_id="1002",
            question="Neg-risk outcome A?",
            slug="neg-risk-a",
            outcomes=("Yes", "No"),
            token_ids=(NR_YES, NR_NO),
            tick_size=Decimal("0.01"),
            neg_risk=True,
        ),
        background_ladder("m2"),
    )
    return venue


def authed_client(running: RunningVenue, key: str = KEY_A) -> ClobClient:
    """A real SDK client at L2: derives its API key from the venue (L1) first."""
    client = ClobClient(host=running.clob_url, chain_id=137, key=key, signature_type=0)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def forged_creds(creds: ApiCreds) -> ApiCreds:
    """The same key and passphrase with a different (wrong) secret."""
    return ApiCreds(
        api_key=creds.api_key,
        api_secret="ZmFrZS1zZWNyZXQtZmFrZS1zZWNyZXQtZmFrZS1zZWM=",
        api_passphrase=creds.api_passphrase,
    )


def l2_request(
    running: RunningVenue, client: ClobClient, method: str, path: str, body: Any = None
) -> httpx.Response:
    """A raw request signed with ``client``'s L2 credentials, for bodies the SDK never sends."""
    assert client.signer is not None and client.creds is not None
    serialized = json.dumps(body, separators=(",", ":")) if body is not None else None
    args = RequestArgs(method=method, request_path=path, body=body, serialized_body=serialized)
    headers = create_level_2_headers(client.signer, client.creds, args)
    content = serialized.encode() if serialized is not None else b""
    return httpx.request(method, running.clob_url + path, headers=headers, content=content)
