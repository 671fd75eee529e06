"""HTTP routes of the chain side: ``POST /rpc``, the relayer under ``/relayer``, and control.

Control routes (under ``/_sim``, never faulted):

GET    /chain/wallets/{address}   pUSD, allowances, operators and ERC-1155 positions (units)
POST   /chain/wallets             {"signer": "0x..", "type": "proxy"|"safe"|"deposit", "pusd": "1",
                                  "tokens": {...}, "approve": true}: derive the signer's wallet
                                  (the one its CLOB orders use), mark it deployed, fund it
GET    /chain/transactions        every transaction (pending and mined)
POST   /chain/mine                mine what is due; {"release": true} also held ones
GET|POST|DELETE /chain/faults     list, add ({"kind": "revert"|"pending", "count", "to",
                                  "sender", "reason"}), clear chain faults
GET    /relayer/api-key?address=  the relayer API key of an address (for tests and rehearsals)
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from pm_lib.sim.accounts import SETTLEMENT_SPENDERS, SPENDERS, to_units
from pm_lib.sim.chain_rpc import handle_rpc
from pm_lib.sim.chain_wallets import wallet_of
from pm_lib.sim.relayer import RelayerError, relayer_api_key
from pm_lib.sim.venue import SimVenue

__all__ = ["chain_control_routes", "chain_routes"]


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def chain_routes(venue: SimVenue) -> list[BaseRoute]:
    """``POST /rpc`` and the ``/relayer`` mount."""
    relayer = venue.relayer

    async def rpc(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            error = {"code": -32700, "message": "parse error"}
            return _json({"jsonrpc": "2.0", "id": None, "error": error})
        return _json(handle_rpc(venue.chain, body))

    def guarded(handler: Any) -> Any:
        async def run(request: Request) -> Response:
            try:
                return _json(await handler(request))
            except RelayerError as e:
                return _json({"error": e.message}, e.status)

        return run

    def query(request: Request, name: str) -> str:
        value = request.query_params.get(name)
        if not value:
            raise RelayerError(f"missing query parameter {name}")
        return value

    async def deployed(request: Request) -> Any:
        return {"deployed": relayer.is_deployed(query(request, "address"))}

    async def relay_payload(request: Request) -> Any:
        return relayer.relay_payload(query(request, "address"), query(request, "type"))

    async def params(request: Request) -> Any:
        return relayer.execute_params(query(request, "address"), query(request, "type"))

    async def nonce(request: Request) -> Any:
        return relayer.nonce(query(request, "address"), request.query_params.get("type", "PROXY"))

    async def submit(request: Request) -> Any:
        body = await _body(request)
        if not isinstance(body, dict):
            raise RelayerError("invalid body")
        return relayer.submit(body, dict(request.headers))

    async def transaction(request: Request) -> Any:
        return relayer.as_account_json(relayer.find(request.path_params["transaction_id"]))

    async def transaction_list(request: Request) -> Any:
        try:
            return [relayer.as_json(relayer.find(query(request, "id")))]
        except RelayerError as e:
            if e.status == 404:
                return []
            raise

    async def transactions(request: Request) -> Any:
        return relayer.list_for(relayer.authenticated_owner(dict(request.headers)))

    return [
        Route("/rpc", rpc, methods=["POST"]),
        Mount(
            "/relayer",
            routes=[
                Route("/deployed", guarded(deployed), methods=["GET"]),
                Route("/relay-payload", guarded(relay_payload), methods=["GET"]),
                Route("/nonce", guarded(nonce), methods=["GET"]),
                Route("/submit", guarded(submit), methods=["POST"]),
                Route("/transaction", guarded(transaction_list), methods=["GET"]),
                Route("/transactions", guarded(transactions), methods=["GET"]),
                Route("/v1/account/transactions", guarded(transactions), methods=["GET"]),
                Route("/v1/account/transactions/params", guarded(params), methods=["GET"]),
                Route(
                    "/v1/account/transactions/{transaction_id}",
                    guarded(transaction),
                    methods=["GET"],
                ),
            ],
        ),
    ]


def chain_wallet_json(venue: SimVenue, address: str) -> dict[str, Any]:
    """pUSD, allowances, operators and positions of ``address`` (units, decimal strings)."""
    with venue.state.lock:
        venue.chain.advance()
        wallet = venue.chain.world.peek(address)
        spenders = SPENDERS + SETTLEMENT_SPENDERS
        return {
            "address": address,
            "deployed": venue.relayer.is_deployed(address),
            "pusd": str(wallet.pusd),
            "pusd_allowances": {s: str(wallet.pusd_allowances.get(s, 0)) for s in spenders},
            "operators": {s: wallet.token_allowances.get(s, 0) > 0 for s in spenders},
            "positions": {t: str(u) for t, u in sorted(wallet.positions.items()) if u},
            "nonce": venue.chain.latest_nonce(address),
        }


def chain_control_routes(venue: SimVenue) -> list[BaseRoute]:
    """Control routes of the chain side (mount under ``/_sim``)."""
    chain, relayer = venue.chain, venue.relayer

    async def inspect(request: Request) -> Response:
        return _json(chain_wallet_json(venue, request.path_params["address"]))

    async def register(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict):
            return _json({"error": "body must be a JSON object"}, 400)
        kind = {"proxy": 1, "safe": 2, "deposit": 3}.get(str(body.get("type", "")).lower())
        signer = str(body.get("signer", ""))
        if kind is None:
            return _json({"error": "type must be proxy, safe or deposit"}, 400)
        try:
            wallet = wallet_of(signer, kind)
            pusd = to_units(Decimal(str(body.get("pusd", "0"))))
            tokens = {str(t): to_units(Decimal(str(v))) for t, v in body.get("tokens", {}).items()}
        except (ValueError, InvalidOperation, AttributeError):
            return _json({"error": "signer must be an address; pusd/tokens decimal strings"}, 400)
        assert wallet is not None
        with venue.state.lock:
            relayer.deployed.add(wallet.lower())
            accounts = venue.exchange.accounts
            accounts.fund(
                accounts.wallet(wallet), pusd=pusd, tokens=tokens, approve=bool(body.get("approve"))
            )
        return _json({"signer": signer, "wallet": wallet, **chain_wallet_json(venue, wallet)}, 201)

    async def transactions(request: Request) -> Response:
        with venue.state.lock:
            chain.advance()
            return _json([chain.as_json(t) for t in chain.txs.values()])

    async def mine(request: Request) -> Response:
        body = await _body(request)
        release = bool(body.get("release")) if isinstance(body, dict) else False
        return _json({"mined": chain.advance(release=release)})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            if not isinstance(body, dict):
                return _json({"error": "body must be a JSON object"}, 400)
            try:
                fault = chain.add_fault(**body)
            except (TypeError, ValueError) as e:
                return _json({"error": str(e)}, 400)
            return _json(fault.as_json(), 201)
        if request.method == "DELETE":
            chain.clear_faults()
        return _json([f.as_json() for f in chain.faults])

    async def api_key(request: Request) -> Response:
        address = request.query_params.get("address", "")
        return _json({"key": relayer_api_key(venue.config.seed, address), "address": address})

    return [
        Route("/chain/wallets", register, methods=["POST"]),
        Route("/chain/wallets/{address}", inspect, methods=["GET"]),
        Route("/chain/transactions", transactions, methods=["GET"]),
        Route("/chain/mine", mine, methods=["POST"]),
        Route("/chain/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/relayer/api-key", api_key, methods=["GET"]),
    ]
