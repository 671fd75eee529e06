"""Fault injection for the emulated venue: ASGI middleware around the whole app.

A ``FaultRule`` matches requests by method and path (regular expression, full match) and fires
with a probability and/or a limited count, drawn from a seeded generator (same seed and request
order, same faults). Kinds, as a client sees them:

- ``latency``: the request waits ``delay_seconds``, then runs normally;
- ``error``: an HTTP ``status`` (5xx, or 425 as during matching-engine restarts, docs/VENUE.md
  4.6, or 404: a read that misses what exists) with ``{"error": ...}``; the route does not run;
- ``timeout``: the request is held ``delay_seconds`` (longer than the client's timeout), then
  answered 504; the route does not run. The hold ends early when the client hangs up;
- ``malformed``: the route runs, its body is truncated and garbled (not JSON) with a correct
  ``Content-Length``;
- ``response_lost``: the route runs (an order rests or fills), then the response starts with
  the full ``Content-Length``, half the body is sent and the connection is closed. httpx
  raises ``httpx.RemoteProtocolError`` ("peer closed connection without sending complete
  message body"): the write happened, the answer did not arrive;
- ``error_after_apply``: the route runs (a transaction is admitted, a relayed batch applied),
  then the client gets the error ``status`` (5xx) instead of its answer, as when
  a gateway loses the upstream's reply.

A rule may also name a JSON-RPC method (``rpc_method``, e.g. ``eth_sendRawTransaction``): it
then fires only for ``POST /rpc`` requests calling that method (alone or in a batch), so a
lost answer can hit the transaction submission and not the receipt polls. An ``error`` fault
may answer 429 (a provider's rate limit) as well as 404, 425 and 5xx.

``/_sim`` control routes are never faulted, so a test can always clear what it injected.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
import threading
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["FAULT_KINDS", "FaultMiddleware", "FaultPlan", "FaultRule"]

FAULT_KINDS = ("latency", "error", "timeout", "malformed", "response_lost", "error_after_apply")
_LOST_RESPONSE_LOG = "ASGI callable returned without completing response."


class _ExpectedDropFilter(logging.Filter):
    """uvicorn logs an error when a response is cut on purpose; that is the fault, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _LOST_RESPONSE_LOG


_uvicorn_error = logging.getLogger("uvicorn.error")
if not any(isinstance(f, _ExpectedDropFilter) for f in _uvicorn_error.filters):
    _uvicorn_error.addFilter(_ExpectedDropFilter())


@dataclass
class FaultRule:
    """One injected fault (see the module docstring for the kinds)."""

    rule_id: str
    kind: str
    path: str = ".*"
    method: str | None = None
    probability: float = 1.0
    count: int | None = None  # firings left; None = unlimited
    delay_seconds: float = 0.0
    status: int = 500
    rpc_method: str | None = None  # only POST /rpc requests calling this JSON-RPC method
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {FAULT_KINDS}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.kind == "error" and not (
            self.status in (404, 425, 429) or 500 <= self.status <= 599
        ):
            raise ValueError("an error fault's status must be 404, 425, 429 or 5xx")
        if self.kind == "error_after_apply" and not 500 <= self.status <= 599:
            raise ValueError("an error_after_apply fault's status must be 5xx")
        if self.kind == "timeout" and self.delay_seconds <= 0:
            self.delay_seconds = 30.0
        re.compile(self.path)
        if self.method is not None:
            self.method = self.method.upper()

    def as_json(self) -> dict[str, Any]:
        """JSON-ready description (control API)."""
        return asdict(self)


class FaultPlan:
    """The active fault rules of a venue; the first matching rule that fires wins."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []

    def add(self, **fields: Any) -> FaultRule:
        """Add a rule (fields of ``FaultRule`` except ``rule_id``/``fired``)."""
        rule = FaultRule(rule_id=f"f{next(self._ids)}", **fields)
        with self._lock:
            self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        """Drop one rule; whether it existed."""
        with self._lock:
            before = len(self.rules)
            self.rules = [r for r in self.rules if r.rule_id != rule_id]
            return len(self.rules) != before

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self.rules.clear()

    def wants_rpc_methods(self, path: str) -> bool:
        """Whether a rule needs the JSON-RPC method names of a request to ``path``."""
        return path == "/rpc" and any(r.rpc_method is not None for r in self.rules)

    def pick(
        self, method: str, path: str, rpc_methods: frozenset[str] = frozenset()
    ) -> FaultRule | None:
        """The rule that fires for this request, if any (spends one of its count)."""
        with self._lock:
            for rule in self.rules:
                if rule.method is not None and rule.method != method:
                    continue
                if rule.rpc_method is not None and rule.rpc_method not in rpc_methods:
                    continue
                if rule.count is not None and rule.count <= 0:
                    continue
                if not re.fullmatch(rule.path, path):
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                return rule
        return None


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _until_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # then only a disconnect would come; never here
        return {"type": "http.disconnect"}

    return receive


def _rpc_methods(body: bytes) -> frozenset[str]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return frozenset()
    items = data if isinstance(data, list) else [data]
    return frozenset(
        str(i["method"]) for i in items if isinstance(i, dict) and isinstance(i.get("method"), str)
    )


def _error_body(status: int) -> bytes:
    text = {
        404: "Not found",
        425: "Too Early: the matching engine is restarting",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Server Error")
    return orjson.dumps({"error": text})


class FaultMiddleware:
    """Applies the venue's ``FaultPlan`` to every request outside ``/_sim``."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        rpc_methods: frozenset[str] = frozenset()
        if self.plan.wants_rpc_methods(scope["path"]):
            body = await _read_body(receive)
            rpc_methods = _rpc_methods(body)
            receive = _replay(body)
        rule = self.plan.pick(scope["method"], scope["path"], rpc_methods)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "latency":
            await asyncio.sleep(rule.delay_seconds)
            await self.app(scope, receive, send)
        elif rule.kind == "error":
            await _respond(send, rule.status, _error_body(rule.status))
        elif rule.kind == "timeout":
            try:
                await asyncio.wait_for(_until_disconnect(receive), rule.delay_seconds)
            except TimeoutError:
                await _respond(send, 504, _error_body(504))
        else:
            await self._run_then_spoil(rule, scope, receive, send)

    async def _run_then_spoil(
        self, rule: FaultRule, scope: Scope, receive: Receive, send: Send
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:
            return
        body = b"".join(chunks)
        if rule.kind == "error_after_apply":
            await _respond(send, rule.status, _error_body(rule.status))
            return
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if rule.kind == "malformed":
            spoiled = body[: len(body) // 2] + b"\x00<garbled"
            headers.append((b"content-length", str(len(spoiled)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": spoiled})
            return
        # response_lost: promise the whole body, deliver half, hang up (uvicorn closes).
        headers.append((b"content-length", str(max(len(body), 1)).encode()))
        await send({**start, "headers": headers})
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
