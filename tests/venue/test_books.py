"""fetch_books against a scripted CLOB (httpx.MockTransport): chunking, gaps, bad books, retries."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pm_lib.errors import BadVenueData, RetryableError
from pm_lib.settings import Settings
from pm_lib.venue.books import BookBatch, fetch_books
from pm_lib.venue.ratelimit import RateLimiter
from tests.venue.conftest import FakeTime, load_resource

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CLOB = "https://clob.test"
LIVE_BOOK: dict[str, Any] = load_resource("sajiiid09-polywatch__book.json")


def tokens(n: int, start: int = 1) -> list[str]:
    return [str(10**6 + i) for i in range(start, start + n)]


def book_for(token: str) -> dict[str, Any]:
    """The recorded live book, as if it were ``token``'s."""
    book = copy.deepcopy(LIVE_BOOK)
    book["asset_id"] = token
    return book


class BooksStub:
    """Answers POST /books with a book for every known token; ``failures`` are answered first."""

    def __init__(
        self,
        known: set[str],
        *,
        broken: dict[str, dict[str, Any]] | None = None,
        failures: list[httpx.Response | Exception] | None = None,
    ) -> None:
        self.known = known
        self.broken = broken or {}
        self.failures = list(failures or [])
        self.bodies: list[list[dict[str, str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/books")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let other workers start their requests
            if self.failures:
                failure = self.failures.pop(0)
                if isinstance(failure, Exception):
                    raise failure
                return failure
            body = json.loads(request.content)
            self.bodies.append(body)
            asked = [item["token_id"] for item in body]
            answer = [self.broken.get(t) or book_for(t) for t in asked if t in self.known]
            return httpx.Response(200, json=answer)
        finally:
            self.in_flight -= 1


def settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {"clob_url": CLOB, "http_max_retries": 2, "http_concurrency": 4}
    values.update(changes)
    return Settings(_env_file=None, **values)


async def fetch(
    stub: BooksStub, wanted: list[str], fake_time: FakeTime, **changes: Any
) -> BookBatch:
    client = httpx.AsyncClient(transport=httpx.MockTransport(stub))
    limiter = RateLimiter(400, clock=fake_time.clock, sleep=fake_time.sleep)
    return await fetch_books(
        client, settings(**changes), wanted, NOW, limiter=limiter, sleep=fake_time.sleep
    )


async def test_1234_tokens_go_in_three_requests_of_at_most_500(fake_time: FakeTime) -> None:
    wanted = tokens(1234)
    stub = BooksStub(set(wanted))

    batch = await fetch(stub, wanted, fake_time)

    assert sorted(len(body) for body in stub.bodies) == [234, 500, 500]
    assert batch.requests == 3
    assert set(batch.books) == set(wanted)


async def test_request_body_is_a_list_of_token_id_objects(fake_time: FakeTime) -> None:
    stub = BooksStub({"7"})

    await fetch(stub, ["7", "8"], fake_time)

    assert stub.bodies == [[{"token_id": "7"}, {"token_id": "8"}]]


async def test_smaller_batch_size_setting_is_respected(fake_time: FakeTime) -> None:
    wanted = tokens(25)
    stub = BooksStub(set(wanted))

    await fetch(stub, wanted, fake_time, books_batch_size=10)

    assert sorted(len(body) for body in stub.bodies) == [5, 10, 10]


async def test_tokens_without_a_book_are_reported_missing(fake_time: FakeTime) -> None:
    wanted = tokens(6)
    stub = BooksStub(set(wanted[:4]))

    batch = await fetch(stub, wanted, fake_time)

    assert set(batch.books) == set(wanted[:4])
    assert batch.missing == tuple(wanted[4:])


async def test_books_are_parsed_best_first(fake_time: FakeTime) -> None:
    batch = await fetch(BooksStub({"7"}), ["7"], fake_time)

    book = batch.books["7"]
    assert (str(book.best_bid), str(book.best_ask)) == ("0.3", "0.43")
    assert batch.fetched_at == NOW


async def test_bad_book_is_skipped_and_the_rest_of_the_chunk_kept(fake_time: FakeTime) -> None:
    wanted = tokens(5)
    crossed = book_for(wanted[2])
    crossed["bids"][-1]["price"] = "0.5"
    stub = BooksStub(set(wanted), broken={wanted[2]: crossed})

    batch = await fetch(stub, wanted, fake_time)

    assert set(batch.books) == set(wanted) - {wanted[2]}
    assert [(s.ident, s.reason[:12]) for s in batch.skipped] == [(wanted[2], "crossed book")]
    assert batch.missing == ()


async def test_duplicate_tokens_are_asked_once(fake_time: FakeTime) -> None:
    stub = BooksStub({"7", "8"})

    batch = await fetch(stub, ["7", "8", "7"], fake_time)

    assert stub.bodies == [[{"token_id": "7"}, {"token_id": "8"}]]
    assert set(batch.books) == {"7", "8"}


async def test_unrequested_books_in_the_answer_are_ignored(fake_time: FakeTime) -> None:
    def extra(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[book_for("7"), book_for("999")])

    client = httpx.AsyncClient(transport=httpx.MockTransport(extra))
    batch = await fetch_books(client, settings(), ["7"], NOW, sleep=fake_time.sleep)

    assert set(batch.books) == {"7"}


async def test_rate_limited_chunk_is_retried_after_retry_after(fake_time: FakeTime) -> None:
    wanted = tokens(3)
    stub = BooksStub(set(wanted), failures=[httpx.Response(429, headers={"Retry-After": "5"})])

    batch = await fetch(stub, wanted, fake_time)

    assert set(batch.books) == set(wanted)
    assert (batch.rate_limited, batch.retries, batch.requests) == (1, 1, 2)
    assert 5.0 in fake_time.sleeps


async def test_server_error_then_success(fake_time: FakeTime) -> None:
    wanted = tokens(3)
    stub = BooksStub(set(wanted), failures=[httpx.Response(503)])

    batch = await fetch(stub, wanted, fake_time)

    assert set(batch.books) == set(wanted)
    assert batch.retries == 1


async def test_exhausted_timeouts_raise_the_venue_error_not_a_group(fake_time: FakeTime) -> None:
    stub = BooksStub(set(tokens(3)), failures=[httpx.ReadTimeout("slow")] * 3)

    with pytest.raises(RetryableError, match="timed out"):
        await fetch(stub, tokens(3), fake_time)


async def test_answer_that_is_not_a_list_is_bad_venue_data(fake_time: FakeTime) -> None:
    stub = BooksStub(set(), failures=[httpx.Response(200, json={"error": "?"})])

    with pytest.raises(BadVenueData, match="expected a JSON list"):
        await fetch(stub, ["7"], fake_time)


async def test_no_tokens_means_no_request(fake_time: FakeTime) -> None:
    stub = BooksStub(set())

    batch = await fetch(stub, [], fake_time)

    assert (batch.books, batch.requests, stub.bodies) == ({}, 0, [])


async def test_progress_is_reported_per_chunk_up_to_the_total(fake_time: FakeTime) -> None:
    wanted = tokens(25)
    seen: list[tuple[int, int]] = []
    client = httpx.AsyncClient(transport=httpx.MockTransport(BooksStub(set(wanted))))

    await fetch_books(
        client,
        settings(books_batch_size=10),
        wanted,
        NOW,
        on_progress=lambda done, total: seen.append((done, total)),
        sleep=fake_time.sleep,
    )

    assert len(seen) == 3
    assert seen[-1] == (25, 25)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_requests_in_flight_never_exceed_the_concurrency(fake_time: FakeTime) -> None:
    wanted = tokens(100)
    stub = BooksStub(set(wanted))

    await fetch(stub, wanted, fake_time, books_batch_size=5, http_concurrency=3)

    assert len(stub.bodies) == 20
    assert 1 < stub.max_in_flight <= 3


async def test_chunks_wait_for_the_rate_budget(fake_time: FakeTime) -> None:
    wanted = tokens(30)
    client = httpx.AsyncClient(transport=httpx.MockTransport(BooksStub(set(wanted))))
    limiter = RateLimiter(2, 10.0, clock=fake_time.clock, sleep=fake_time.sleep)

    await fetch_books(
        client, settings(books_batch_size=10), wanted, NOW, limiter=limiter, sleep=fake_time.sleep
    )

    assert fake_time.sleeps == [10.0]
