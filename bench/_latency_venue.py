"""The latency bench's emulator process: the product's emulator app plus four bench-only routes.

    python bench/_latency_venue.py --port P --markets N --seed S

``POST /_bench/plant {"event_id", "total_ask", "size", "step"}``: plant a neg-risk dip on the
event's YES books in two steps. ``"step": "setup"`` moves each leg's ask up to the dip's ask
and its bid down to the dip's bid where that is a move (the ask and bid sums only rise and fall,
so no edge appears) and answers the asks it set; ``"step": "drop"`` (the default) then sets the
dip (``pm_lib.sim.scenarios.plant_negrisk_arbitrage``: asks only fall) and answers the venue
clock at the change. A one-step plant raised the long-shot legs (0.03 -> 0.30) as it dropped
the favourite: the emulator publishes one pump's markets in no particular order (and an
event's legs can straddle two connections), so a client could see the favourite's drop before
the long shots' rise, an edge that never existed on the venue, and its FOKs at the long shots'
old asks were refused. ``"step"`` splits the plant so that every partial view of it is one
the venue had or worse. ``POST /_bench/restore {"event_id"}``: put the legs back to a fair book
(asks summing to about 1.05); ``GET /_bench/orders?since=T``: (token, venue-clock time the order
was accepted) of every order placed at or after T; ``GET /_bench/refused``: every order the
venue refused, with its error, amounts and the YES book at that moment. Books are static
(epoch 0): every change is a planted one.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pm_lib.sim.app import create_app
from pm_lib.sim.market_admin import set_book
from pm_lib.sim.scenarios import dip_ask, plant_negrisk_arbitrage
from pm_lib.sim.venue import SimConfig, SimVenue


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--markets", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    venue = SimVenue(
        SimConfig(
            seed=args.seed,
            markets=args.markets,
            book_epoch_seconds=0,
            max_books_in_memory=1024,
            ws_max_assets=500,
        )
    )
    state = venue.state
    refused: list[dict[str, object]] = []  # every refused order, with its book at the moment
    original_place = venue.exchange._place

    def place(key: Any, payload: Any) -> dict[str, Any]:
        try:
            return original_place(key, payload)
        except Exception as e:
            order = payload.order
            row: dict[str, object] = {
                "error": str(e),
                "at": state.clock.now(),
                "token": order.token_id,
                "side": order.side,
                "type": payload.order_type,
                "maker_amount": order.maker_amount,
                "taker_amount": order.taker_amount,
            }
            found = state.market_for_token(order.token_id)
            if found is not None:
                ladder = state.ladders[found[0].condition_id]
                row["yes_asks"] = [[str(p), str(q)] for p, q in ladder.levels("SELL")[:3]]
                row["yes_bids"] = [[str(p), str(q)] for p, q in ladder.levels("BUY")[:3]]
            refused.append(row)
            raise

    venue.exchange._place = place  # type: ignore[method-assign]

    def _json(body: object) -> Response:
        return Response(orjson.dumps(body), media_type="application/json")

    async def plant(request: Request) -> Response:
        body = orjson.loads(await request.body())
        event = state.events[str(body["event_id"])]
        total = Decimal(str(body.get("total_ask", "0.90")))
        size = Decimal(str(body.get("size", "50")))
        step = str(body.get("step", "drop"))
        with state.lock:
            if step == "drop":
                plant_negrisk_arbitrage(venue, event=event, total_ask=total, size=size)
                return _json({"at": state.clock.now()})
            asks: dict[str, str] = {}
            share = total / len(event.condition_ids)
            for cond in event.condition_ids:
                # The dip's levels where that moves an ask up or a bid down, else the book's own
                # best: the sums of asks only rise and of bids only fall, so a client that sees
                # some legs changed and others not yet sees no edge.
                market = state.markets[cond]
                ask = dip_ask(share, market.tick_size)
                bid = ask - market.tick_size
                ladder = state.ladders[cond]
                ask_levels, bid_levels = ladder.levels("SELL"), ladder.levels("BUY")
                ask = max(ask, ask_levels[0][0]) if ask_levels else ask
                bid = min(bid, bid_levels[0][0]) if bid_levels else bid
                set_book(
                    venue.market_data,
                    market.yes_token,
                    [[str(bid), str(size)]],
                    [[str(ask), str(size)]],
                )
                asks[market.yes_token] = str(ask)
            return _json({"at": state.clock.now(), "asks": asks})

    async def restore(request: Request) -> Response:
        body = orjson.loads(await request.body())
        event = state.events[str(body["event_id"])]
        with state.lock:
            for cond in event.condition_ids:
                market = state.markets[cond]
                tick = market.tick_size
                share = Decimal("1.05") / len(event.condition_ids)
                ask = max(tick * 2, (share / tick).to_integral_value() * tick)
                set_book(
                    venue.market_data,
                    market.yes_token,
                    [[str(ask - tick), "100"]],
                    [[str(ask), "100"]],
                )
        return _json({"at": state.clock.now()})

    async def orders(request: Request) -> Response:
        since = float(request.query_params.get("since", "0"))
        with state.lock:
            found = [
                {"token": r.asset_id, "at": r.created_at, "status": r.status}
                for r in venue.exchange.orders.values()
                if r.created_at >= since
            ]
        return _json(found)

    async def refusals(request: Request) -> Response:
        return _json(refused)

    app = create_app(venue)
    app.router.routes[0:0] = [
        Route("/_bench/plant", plant, methods=["POST"]),
        Route("/_bench/restore", restore, methods=["POST"]),
        Route("/_bench/orders", orders, methods=["GET"]),
        Route("/_bench/refused", refusals, methods=["GET"]),
    ]
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
