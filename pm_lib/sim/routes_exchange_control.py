"""Emulator control routes for the exchange side (mounted under ``/_sim``); no auth, local only.

    POST /_sim/wallets/{address}/fund   {"pusd": "250.5", "tokens": {"<token id>": "10"},
                                         "approve": true, "allowance": "<units>"}
                                        add pUSD and tokens (decimal strings, in pUSD/shares);
                                        "approve" grants unlimited allowances, "allowance" sets
                                        every allowance to exactly that many base units
    GET  /_sim/wallets/{address}        balances, allowances and positions (base units), with
                                        the orders and trades of that address
    GET  /_sim/orders?address=          every order record (all statuses), optionally of one
                                        address (as API-key owner or maker wallet)
    GET  /_sim/trades?address=          every trade, optionally involving one address
    POST /_sim/ghost-fill-rate          {"rate": 0.25}: share of new trades that will revert
    POST /_sim/filled-lookup-misses     {"rate": 0.5, "answer": "404"|"empty"}: share of filled
                                        FOK/FAK orders whose GET /data/order/{id} answers
                                        "not found" (404) or an empty 200 body, as live
    POST /_sim/ghost-fills              {"token_id": "<token>", "count": 1}: the next ``count``
                                        trades taken on that token (one basket leg, say) are
                                        ghost fills: MATCHED, then RETRYING, then FAILED
    POST /_sim/engine-restart           {"restart_seconds": 90, "post_only_seconds": 120}: the
                                        weekly matching-engine restart from now (venue clock):
                                        orders and cancels answer 425, then only post-only
                                        orders and cancels are taken (503 post_only_mode)
    POST /_sim/trades/{id}/status       {"status": "TRADE_STATUS_FAILED"}: force a status
                                        (FAILED undoes the trade's balance effects)

First-seen wallets are funded automatically when ``SimConfig.autofund`` is on (``autofund_pusd``
pUSD and unlimited allowances); ``GET /_sim/wallets/{address}`` counts as a first sight.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from pm_lib.sim.accounts import SPENDERS, to_units
from pm_lib.sim.exchange import Exchange
from pm_lib.sim.lifecycle import TRADE_STATUSES, OrderRecord, TradeRecord
from pm_lib.sim.venue import SimVenue

__all__ = ["exchange_control_routes"]


def _orders_of(exchange: Exchange, address: str) -> list[OrderRecord]:
    wanted = address.lower()
    return [
        r
        for r in exchange.orders.values()
        if not wanted or r.user == wanted or r.maker_address.lower() == wanted
    ]


def _trades_of(exchange: Exchange, address: str) -> list[TradeRecord]:
    wanted = address.lower()
    return [
        t
        for t in exchange.trades.values()
        if not wanted
        or t.involves(wanted)
        or t.maker_address.lower() == wanted
        or any(m.maker_address.lower() == wanted for m in t.maker_orders)
    ]


def _trade_json(trade: TradeRecord) -> dict[str, Any]:
    row = trade.as_json(trade.taker_user)
    row.pop("trader_side")
    row["fee"] = str(trade.fee)
    row["execution_price"] = str(trade.price)  # control view only: the taker's VWAP
    row["ghost"] = trade.ghost
    return row


def _wallet_json(exchange: Exchange, address: str) -> dict[str, Any]:
    wallet = exchange.accounts.wallet(address)
    return {
        "address": wallet.address,
        "pusd": str(wallet.pusd),
        "pusd_allowances": {s: str(wallet.pusd_allowances.get(s, 0)) for s in SPENDERS},
        "token_allowances": {s: str(wallet.token_allowances.get(s, 0)) for s in SPENDERS},
        "positions": {t: str(u) for t, u in wallet.positions.items() if u},
        "orders": [r.as_json() for r in _orders_of(exchange, address)],
        "trades": [_trade_json(t) for t in _trades_of(exchange, address)],
    }


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def exchange_control_routes(venue: SimVenue) -> list[BaseRoute]:
    """Control routes (under ``/_sim``) that fund wallets and inspect orders, trades, balances."""
    exchange = venue.exchange
    lock = venue.state.lock

    async def fund(request: Request) -> JSONResponse:
        address = request.path_params["address"]
        body = await _json_body(request)
        try:
            pusd = to_units(Decimal(str(body.get("pusd", "0"))))
            tokens = {str(t): to_units(Decimal(str(v))) for t, v in body.get("tokens", {}).items()}
            allowance = int(body["allowance"]) if "allowance" in body else None
        except (InvalidOperation, ValueError, TypeError, AttributeError):
            return JSONResponse({"error": "pusd/tokens must be decimal strings"}, 400)
        with lock:
            wallet = exchange.accounts.wallet(address)
            exchange.accounts.fund(
                wallet, pusd=pusd, approve=bool(body.get("approve")), tokens=tokens
            )
            if allowance is not None:
                for spender in SPENDERS:
                    wallet.pusd_allowances[spender] = allowance
                    wallet.token_allowances[spender] = allowance
            return JSONResponse(_wallet_json(exchange, address))

    async def inspect_wallet(request: Request) -> JSONResponse:
        with lock:
            exchange.advance()
            return JSONResponse(_wallet_json(exchange, request.path_params["address"]))

    async def list_orders(request: Request) -> JSONResponse:
        address = request.query_params.get("address", "")
        with lock:
            exchange.advance()
            return JSONResponse([r.as_json() for r in _orders_of(exchange, address)])

    async def list_trades(request: Request) -> JSONResponse:
        address = request.query_params.get("address", "")
        with lock:
            exchange.advance()
            return JSONResponse([_trade_json(t) for t in _trades_of(exchange, address)])

    async def ghost_fill_rate(request: Request) -> JSONResponse:
        body = await _json_body(request)
        try:
            rate = float(body["rate"])
        except (KeyError, TypeError, ValueError):
            return JSONResponse({"error": "rate (0..1) is required"}, 400)
        if not 0 <= rate <= 1:
            return JSONResponse({"error": "rate must be within 0..1"}, 400)
        with lock:
            venue.config.ghost_fill_rate = rate
        return JSONResponse({"ghost_fill_rate": rate})

    async def filled_lookup_misses(request: Request) -> JSONResponse:
        body = await _json_body(request)
        try:
            rate = float(body["rate"])
        except (KeyError, TypeError, ValueError):
            return JSONResponse({"error": "rate (0..1) is required"}, 400)
        answer = str(body.get("answer", "404"))
        if not 0 <= rate <= 1 or answer not in ("404", "empty"):
            return JSONResponse({"error": "rate must be within 0..1, answer 404 or empty"}, 400)
        with lock:
            venue.config.filled_lookup_miss_rate = rate
            venue.config.filled_lookup_miss_answer = answer
        return JSONResponse({"rate": rate, "answer": answer})

    async def ghost_fills(request: Request) -> JSONResponse:
        body = await _json_body(request)
        token_id = str(body.get("token_id", ""))
        try:
            count = int(body.get("count", 1))
        except (TypeError, ValueError):
            return JSONResponse({"error": "count must be an integer"}, 400)
        if not token_id:
            return JSONResponse({"error": "token_id is required"}, 400)
        exchange.target_ghost_fills(token_id, count)
        return JSONResponse({"token_id": token_id, "count": max(count, 0)})

    async def engine_restart(request: Request) -> JSONResponse:
        body = await _json_body(request)
        try:
            restart = float(body.get("restart_seconds", 90))
            post_only = float(body.get("post_only_seconds", 120))
        except (TypeError, ValueError):
            return JSONResponse({"error": "restart_seconds/post_only_seconds are numbers"}, 400)
        if restart < 0 or post_only < 0:
            return JSONResponse({"error": "durations must be >= 0"}, 400)
        exchange.restart_engine(restart, post_only)
        return JSONResponse(
            {"restart_until": exchange.restart_until, "post_only_until": exchange.post_only_until}
        )

    async def force_status(request: Request) -> JSONResponse:
        body = await _json_body(request)
        status = str(body.get("status", ""))
        if status not in TRADE_STATUSES:
            return JSONResponse({"error": f"status must be one of {list(TRADE_STATUSES)}"}, 400)
        trade = exchange.force_trade_status(request.path_params["trade_id"], status)
        if trade is None:
            return JSONResponse({"error": "trade not found"}, 404)
        with lock:
            return JSONResponse(_trade_json(trade))

    return [
        Route("/wallets/{address}/fund", fund, methods=["POST"]),
        Route("/wallets/{address}", inspect_wallet, methods=["GET"]),
        Route("/orders", list_orders, methods=["GET"]),
        Route("/trades", list_trades, methods=["GET"]),
        Route("/ghost-fill-rate", ghost_fill_rate, methods=["POST"]),
        Route("/filled-lookup-misses", filled_lookup_misses, methods=["POST"]),
        Route("/ghost-fills", ghost_fills, methods=["POST"]),
        Route("/engine-restart", engine_restart, methods=["POST"]),
        Route("/trades/{trade_id}/status", force_status, methods=["POST"]),
    ]
