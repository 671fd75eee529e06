"""Emulator routes: the authenticated CLOB (API keys, orders, cancels, ledgers, balances).

Paths and shapes are those py-clob-client-v2 1.2.1 uses (docs/VENUE.md 3.5 and 2.4): L1 routes
verify the ClobAuth signature, every other route verifies L2 HMAC headers against the exact
body bytes, then brings the order lifecycle up to the venue clock before answering. Errors are
HTTP 4xx ``{"error": "..."}`` (plus ``code`` where the docs name one); auth failures carry the
precise reason in an ``X-Sim-Reason`` header.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from pm_lib.sim.accounts import ApiKey
from pm_lib.sim.auth import AuthError, verify_l1, verify_l2
from pm_lib.sim.lifecycle import HeartbeatRejected
from pm_lib.sim.order_rules import CodedRejection
from pm_lib.sim.private_views import (
    PageError,
    balance_allowance,
    open_orders,
    page,
    trades_for,
)
from pm_lib.sim.signing import OrderRejected, parse_order_payload
from pm_lib.sim.venue import SimVenue

__all__ = ["private_routes"]

MAX_BATCH_ORDERS = 15  # POST /orders (docs/VENUE.md 4.2)
MAX_CANCEL_IDS = 1000  # DELETE /orders

Handler = Callable[[Request], Awaitable[Response]]


def _error(message: str, status: int = 400, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _rejection(e: OrderRejected) -> JSONResponse:
    if not isinstance(e, CodedRejection):
        return _error(e.message, e.status)
    if e.retry_after is None:
        return _error(e.message, e.status, code=e.code)
    body = {"error": e.message, "code": e.code, "retry_after_seconds": e.retry_after}
    return JSONResponse(body, e.status, headers={"Retry-After": str(e.retry_after)})


def _auth_failure(e: AuthError) -> JSONResponse:
    return JSONResponse({"error": e.message}, e.status, headers={"X-Sim-Reason": e.reason})


def _rejected_entry(message: str) -> dict[str, Any]:
    """One refused order inside a POST /orders answer (the live shape, ``success`` false)."""
    return {
        "success": False,
        "errorMsg": message,
        "orderID": "",
        "status": "",
        "makingAmount": "",
        "takingAmount": "",
        "transactionsHashes": [],
        "tradeIDs": [],
    }


def private_routes(venue: SimVenue) -> list[BaseRoute]:
    """The authenticated CLOB routes of ``venue``."""
    exchange = venue.exchange
    config = venue.config

    def l1(handler: Callable[[Request, str, int], Response]) -> Handler:
        """Wrap ``handler(request, address, nonce)`` with ClobAuth (L1) verification."""

        async def endpoint(request: Request) -> Response:
            try:
                address, nonce = verify_l1(
                    request.headers,
                    chain_id=config.chain_id,
                    now=exchange.now(),
                    window_seconds=config.auth_window_seconds,
                )
            except AuthError as e:
                return _auth_failure(e)
            with venue.state.lock:
                return handler(request, address, nonce)

        return endpoint

    def l2(handler: Callable[[Request, ApiKey, Any], Response]) -> Handler:
        """Wrap ``handler(request, key, parsed_json_body)`` with HMAC (L2) verification, the
        lifecycle catch-up and the mapping of rejections to 4xx bodies."""

        async def endpoint(request: Request) -> Response:
            body = await request.body()
            with venue.state.lock:
                try:
                    key = verify_l2(
                        request.headers,
                        method=request.method,
                        path=request.url.path,
                        body=body,
                        accounts=exchange.accounts,
                        now=exchange.now(),
                        window_seconds=config.auth_window_seconds,
                    )
                except AuthError as e:
                    return _auth_failure(e)
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    return _error("Invalid request body")
                exchange.advance()
                try:
                    return handler(request, key, parsed)
                except OrderRejected as e:
                    return _rejection(e)
                except PageError as e:
                    return _error(str(e))

        return endpoint

    # -- API keys ----------------------------------------------------------------------------

    def create_key(request: Request, address: str, nonce: int) -> Response:
        record = exchange.accounts.create_key(address, nonce)
        if record is None:
            return _error("Could not create api key")
        return JSONResponse(record.as_json())

    def derive_key(request: Request, address: str, nonce: int) -> Response:
        record = exchange.accounts.existing_key(address, nonce)
        if record is None:
            return _error("Could not derive api key!")
        return JSONResponse(record.as_json())

    def list_keys(request: Request, key: ApiKey, body: Any) -> Response:
        keys = exchange.accounts.keys_of(key.address)
        return JSONResponse({"apiKeys": [k.api_key for k in keys]})

    def delete_key(request: Request, key: ApiKey, body: Any) -> Response:
        exchange.accounts.delete_key(key.api_key)
        return JSONResponse("OK")

    def closed_only(request: Request, key: ApiKey, body: Any) -> Response:
        return JSONResponse({"closed_only": False})

    # -- orders ------------------------------------------------------------------------------

    def post_order(request: Request, key: ApiKey, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error("Invalid order payload")
        return JSONResponse(exchange.place_order(key, parse_order_payload(body)))

    def post_orders(request: Request, key: ApiKey, body: Any) -> Response:
        if not isinstance(body, list) or not body:
            return _error("Invalid orders payload")
        if len(body) > MAX_BATCH_ORDERS:
            return _error(f"Too many orders in payload, max allowed: {MAX_BATCH_ORDERS}")
        exchange.check_engine(post_only=False, cancel=True)  # a restart refuses the batch
        answers: list[dict[str, Any]] = []
        for item in body:
            try:
                if not isinstance(item, dict):
                    raise OrderRejected("Invalid order payload")
                answers.append(exchange.place_order(key, parse_order_payload(item)))
            except OrderRejected as e:
                answers.append(_rejected_entry(e.message))
        return JSONResponse(answers)

    def cancel_order(request: Request, key: ApiKey, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("orderID"), str):
            return _error("Invalid order payload: orderID required")
        return JSONResponse(exchange.cancel(key.address, [body["orderID"]]))

    def cancel_orders(request: Request, key: ApiKey, body: Any) -> Response:
        if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
            return _error("Invalid payload: a list of order ids is required")
        if len(body) > MAX_CANCEL_IDS:
            return _error(f"Too many orders in payload, max allowed: {MAX_CANCEL_IDS}")
        return JSONResponse(exchange.cancel(key.address, body))

    def cancel_all(request: Request, key: ApiKey, body: Any) -> Response:
        return JSONResponse(exchange.cancel_where(key.address))

    def cancel_market(request: Request, key: ApiKey, body: Any) -> Response:
        fields = body if isinstance(body, dict) else {}
        return JSONResponse(
            exchange.cancel_where(
                key.address, str(fields.get("market", "")), str(fields.get("asset_id", ""))
            )
        )

    # -- ledgers -----------------------------------------------------------------------------

    def get_order(request: Request, key: ApiKey, body: Any) -> Response:
        record = exchange.orders.get(request.path_params["order_id"])
        if record is None or record.user != key.address.lower():
            return _error("Order not found", 404)
        if exchange.lookup_misses(record):  # as the venue does for some filled FOK/FAK
            if config.filled_lookup_miss_answer == "empty":
                return Response(b"", status_code=200, media_type="application/json")
            return _error("Order not found", 404)
        return JSONResponse(record.as_json())

    def get_orders(request: Request, key: ApiKey, body: Any) -> Response:
        rows = [r.as_json() for r in open_orders(exchange, key.address, request.query_params)]
        return JSONResponse(page(rows, request.query_params, config.data_page_limit))

    def get_trades(request: Request, key: ApiKey, body: Any) -> Response:
        viewer = key.address.lower()
        rows = [t.as_json(viewer) for t in trades_for(exchange, viewer, request.query_params)]
        return JSONResponse(page(rows, request.query_params, config.data_page_limit))

    def pre_migration_orders(request: Request, key: ApiKey, body: Any) -> Response:
        return JSONResponse(page([], request.query_params, config.data_page_limit))

    def get_balance(request: Request, key: ApiKey, body: Any) -> Response:
        return JSONResponse(balance_allowance(exchange, key, request.query_params))

    def update_balance(request: Request, key: ApiKey, body: Any) -> Response:
        balance_allowance(exchange, key, request.query_params)  # validates, funds first sight
        return Response(status_code=200)

    def heartbeat(request: Request, key: ApiKey, body: Any) -> Response:
        given = body.get("heartbeat_id", "") if isinstance(body, dict) else ""
        try:
            next_id = exchange.heartbeat(key.address, str(given or ""))
        except HeartbeatRejected as e:
            return JSONResponse(
                {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": e.expected}, 400
            )
        return JSONResponse({"heartbeat_id": next_id})

    def notifications(request: Request, key: ApiKey, body: Any) -> Response:
        return JSONResponse([])

    def order_scoring(request: Request, key: ApiKey, body: Any) -> Response:
        return JSONResponse({"scoring": False})

    def orders_scoring(request: Request, key: ApiKey, body: Any) -> Response:
        ids = body if isinstance(body, list) else []
        return JSONResponse({str(i): False for i in ids})

    return [
        Route("/auth/api-key", l1(create_key), methods=["POST"]),
        Route("/auth/derive-api-key", l1(derive_key), methods=["GET"]),
        Route("/auth/api-keys", l2(list_keys), methods=["GET"]),
        Route("/auth/api-key", l2(delete_key), methods=["DELETE"]),
        Route("/auth/ban-status/closed-only", l2(closed_only), methods=["GET"]),
        Route("/order", l2(post_order), methods=["POST"]),
        Route("/order", l2(cancel_order), methods=["DELETE"]),
        Route("/orders", l2(post_orders), methods=["POST"]),
        Route("/orders", l2(cancel_orders), methods=["DELETE"]),
        Route("/cancel-all", l2(cancel_all), methods=["DELETE"]),
        Route("/cancel-market-orders", l2(cancel_market), methods=["DELETE"]),
        Route("/data/order/{order_id}", l2(get_order), methods=["GET"]),
        Route("/data/orders", l2(get_orders), methods=["GET"]),
        Route("/data/trades", l2(get_trades), methods=["GET"]),
        Route("/data/pre-migration-orders", l2(pre_migration_orders), methods=["GET"]),
        Route("/balance-allowance", l2(get_balance), methods=["GET"]),
        Route("/balance-allowance/update", l2(update_balance), methods=["GET"]),
        Route("/v1/heartbeats", l2(heartbeat), methods=["POST"]),
        Route("/heartbeats", l2(heartbeat), methods=["POST"]),
        Route("/notifications", l2(notifications), methods=["GET", "DELETE"]),
        Route("/order-scoring", l2(order_scoring), methods=["GET"]),
        Route("/orders-scoring", l2(orders_scoring), methods=["POST"]),
    ]
