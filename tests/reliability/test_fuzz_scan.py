"""Nothing trades on bad data, and the scan goes on: whole scans with one leg's data broken.

The emulator holds two planted neg-risk arbitrages, A and B. A transport between pm-agent and
the emulator replaces either the CLOB book of one of A's YES tokens (in the POST /books answer)
or the Gamma market of one of A's legs (in the keyset page) with a payload the venue edge must
refuse (``payloads.broken_books`` / ``broken_gamma_markets``). Every example runs a full paper
scan on a fresh database: A is reported (skipped or missing) and never traded; B still is.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pm_lib.models import OrderStatus
from pm_lib.settings import Settings
from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import SimEvent
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store import intents_by_status, make_engine, session_scope, upgrade
from tests.reliability import payloads
from tests.reliability.scan import open_context, run_scan
from tests.reliability.test_fuzz import EXAMPLES

SCANS = settings(
    max_examples=max(4, EXAMPLES // 30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Planted:
    running: RunningVenue
    spoiled: SimEvent  # A: one leg's data is broken in every example
    clean: SimEvent  # B: must still trade
    token: str  # A's YES token whose book is replaced
    market: dict[str, Any]  # A's leg market as Gamma sends it


@pytest.fixture(scope="module")
def planted() -> Iterator[Planted]:
    venue = SimVenue(
        SimConfig(seed=5, markets=120, enforce_rate_limits=False, book_epoch_seconds=0)
    )
    spoiled, clean = complete_negrisk_events(venue)[:2]
    for event in (spoiled, clean):
        plant_negrisk_arbitrage(venue, event=event)
    condition = spoiled.condition_ids[0]
    token = venue.state.markets[condition].yes_token
    with running_venue(venue) as running:
        page = httpx.get(f"{running.gamma_url}/markets/keyset", params={"condition_ids": condition})
        yield Planted(running, spoiled, clean, token, page.json()["markets"][0])


class Tampering(httpx.AsyncBaseTransport):
    """Forwards to the emulator; swaps one book or one Gamma market for ``replacement``."""

    def __init__(self, target: str, replacement: dict[str, Any], *, book: bool) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._target = target
        self._replacement = replacement
        self._book = book

    def _swap(self, items: list[Any], key: str) -> list[Any]:
        return [
            self._replacement if isinstance(i, dict) and i.get(key) == self._target else i
            for i in items
        ]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        path = request.url.path
        if self._book and path.endswith("/books"):
            body: Any = self._swap(json.loads(await response.aread()), "asset_id")
        elif not self._book and path.endswith("/markets/keyset"):
            body = json.loads(await response.aread())
            body["markets"] = self._swap(body["markets"], "conditionId")
        else:
            return response
        return httpx.Response(200, content=json.dumps(body, allow_nan=True).encode())

    async def aclose(self) -> None:
        await self._inner.aclose()


def broken_leg(planted: Planted, kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """A broken book for A's token, or a broken Gamma market of A's leg."""

    def aimed(book: dict[str, Any]) -> dict[str, Any]:
        if book.get("asset_id") == payloads.BOOK["asset_id"]:  # not the defect itself
            book = {**book, "asset_id": planted.token}
        return book

    if kind == "book":
        return payloads.broken_books().map(aimed)
    return payloads.broken_gamma_markets(planted.market)


def traded_conditions(url: str) -> set[str]:
    with session_scope(make_engine(url), read_only=True) as session:
        return {r.condition_id for r in intents_by_status(session, list(OrderStatus))}


@pytest.mark.parametrize("kind", ["book", "market"])
@SCANS
@given(data=st.data())
def test_a_basket_with_one_broken_leg_is_never_traded_and_the_scan_goes_on(
    planted: Planted, kind: str, data: st.DataObject
) -> None:
    broken = data.draw(broken_leg(planted, kind))
    target = planted.token if kind == "book" else planted.market["conditionId"]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'pm.db'}"
        engine = make_engine(url)
        upgrade(engine)
        config = Settings(  # type: ignore[call-arg]
            _env_file=None,
            clob_url=planted.running.clob_url,
            gamma_url=planted.running.gamma_url,
            database_url=url,
            data_dir=tmp,
            strategies=("negrisk_arbitrage",),
        )
        ctx = open_context(config, engine, live=False)
        outcome = run_scan(ctx, transport=Tampering(target, broken, book=kind == "book"))
        traded = traded_conditions(url)
        engine.dispose()

    spoiled, clean = set(planted.spoiled.condition_ids), set(planted.clean.condition_ids)
    if kind == "book":
        assert target not in outcome.books.books
        reported = {s.ident for s in outcome.books.skipped} | set(outcome.books.missing)
        assert target in reported or any(s.kind == "book" for s in outcome.books.skipped)
    else:
        assert target not in outcome.loaded.catalogue.market_by_condition()
        assert outcome.loaded.catalogue.skipped
    assert not traded & spoiled
    assert not any({g.condition_id for g in o.legs} & spoiled for o in outcome.report.opportunities)
    assert clean <= traded
