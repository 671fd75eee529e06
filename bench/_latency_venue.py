"""The latency bench's emulator process: the product's emulator app plus three bench-only routes.

    python bench/_latency_venue.py --port P --markets N --seed S

``POST /_bench/plant {"event_id", "total_ask", "size"}``: plant a neg-risk dip on the event's
YES books (``pm_lib.sim.scenarios.plant_negrisk_arbitrage``) and answer the venue clock at the
change; ``POST /_bench/restore {"event_id"}``: put the legs back to a fair book (asks summing to
about 1.05); ``GET /_bench/orders?since=T``: (token, venue-clock time the order was accepted)
of every order placed at or after T. Books are static (epoch 0): every change is a planted one.
"""

from __future__ import annotations

import argparse
from decimal import Decimal

import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pm_lib.sim.app import create_app
from pm_lib.sim.market_admin import set_book
from pm_lib.sim.scenarios import plant_negrisk_arbitrage
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

    def _json(body: object) -> Response:
        return Response(orjson.dumps(body), media_type="application/json")

    async def plant(request: Request) -> Response:
        body = orjson.loads(await request.body())
        event = state.events[str(body["event_id"])]
        with state.lock:
            plant_negrisk_arbitrage(
                venue,
                event=event,
                total_ask=Decimal(str(body.get("total_ask", "0.90"))),
                size=Decimal(str(body.get("size", "50"))),
            )
            at = state.clock.now()
        return _json({"at": at})

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

    app = create_app(venue)
    app.router.routes[0:0] = [
        Route("/_bench/plant", plant, methods=["POST"]),
        Route("/_bench/restore", restore, methods=["POST"]),
        Route("/_bench/orders", orders, methods=["GET"]),
    ]
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
