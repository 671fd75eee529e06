"""A hand-built emulated venue (two markets) and real SDK clients against it.

The markets and their background liquidity are put into ``VenueState`` directly. The SDK also
needs a few public routes while it builds orders (/version, /tick-size, /neg-risk,
/markets-by-token, /clob-markets, /book, /time); until the market-data side serves them,
``with_stubs`` adds minimal versions, and only for paths the real app does not serve yet.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import ApiCreds, RequestArgs
from py_clob_client_v2.headers.headers import create_level_2_headers
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

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
            fee_exponent=1,
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


def _book_json(venue: SimVenue, token: str) -> dict[str, Any] | None:
    found = venue.state.market_for_token(token)
    if found is None:
        return None
    market, is_yes = found
    bids, asks = venue.state.ladders[market.condition_id].token_levels(is_yes)
    return {
        "market": market.condition_id,
        "asset_id": token,
        "timestamp": str(int(venue.state.clock.now() * 1000)),
        "hash": "",
        "bids": [{"price": str(p), "size": str(s)} for p, s in reversed(bids)],
        "asks": [{"price": str(p), "size": str(s)} for p, s in reversed(asks)],
        "min_order_size": str(market.min_order_size),
        "tick_size": str(market.tick_size),
        "neg_risk": market.neg_risk,
        "last_trade_price": "0.5",
    }


def _stub_routes(venue: SimVenue) -> list[Route]:
    state = venue.state

    def market_of(token: str) -> SimMarket | None:
        found = state.market_for_token(token)
        return found[0] if found else None

    async def version(request: Request) -> JSONResponse:
        return JSONResponse({"version": 2})

    async def server_time(request: Request) -> JSONResponse:
        return JSONResponse(int(state.clock.now()))

    async def tick_size(request: Request) -> JSONResponse:
        market = market_of(request.query_params.get("token_id", ""))
        if market is None:
            return JSONResponse({"error": "market not found"}, 404)
        return JSONResponse({"minimum_tick_size": float(market.tick_size)})

    async def neg_risk(request: Request) -> JSONResponse:
        market = market_of(request.query_params.get("token_id", ""))
        if market is None:
            return JSONResponse({"error": "market not found"}, 404)
        return JSONResponse({"neg_risk": market.neg_risk})

    async def by_token(request: Request) -> JSONResponse:
        market = market_of(request.path_params["token"])
        if market is None:
            return JSONResponse({"error": "market not found"}, 404)
        return JSONResponse({"condition_id": market.condition_id})

    async def clob_market(request: Request) -> JSONResponse:
        market = state.markets.get(request.path_params["cond"])
        if market is None:
            return JSONResponse({"error": "market not found"}, 404)
        return JSONResponse(
            {
                "c": market.condition_id,
                "t": [{"t": market.yes_token, "o": "Yes"}, {"t": market.no_token, "o": "No"}],
                "mos": float(market.min_order_size),
                "mts": float(market.tick_size),
                "nr": market.neg_risk,
                "fd": {"r": float(market.fee_rate), "e": market.fee_exponent, "to": True},
            }
        )

    async def book(request: Request) -> JSONResponse:
        body = _book_json(venue, request.query_params.get("token_id", ""))
        if body is None:
            return JSONResponse({"error": "No orderbook exists for the requested token id"}, 404)
        return JSONResponse(body)

    return [
        Route("/version", version),
        Route("/time", server_time),
        Route("/tick-size", tick_size),
        Route("/neg-risk", neg_risk),
        Route("/markets-by-token/{token}", by_token),
        Route("/clob-markets/{cond}", clob_market),
        Route("/book", book),
    ]


def with_stubs(create_app: Callable[[SimVenue], Starlette]) -> Callable[[SimVenue], Starlette]:
    def build(venue: SimVenue) -> Starlette:
        app = create_app(venue)
        served = {getattr(r, "path", None) for r in app.router.routes}
        for route in _stub_routes(venue):
            if route.path not in served:
                app.router.routes.append(route)
        return app

    return build


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
