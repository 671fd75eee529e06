"""The adapter's error mapping: the unified SDK's failures become pm-agent's error tree."""

from __future__ import annotations

import httpx
import pytest
from polymarket.errors import (
    RateLimitError,
    RequestRejectedError,
    TransportError,
    UnexpectedResponseError,
    UserInputError,
)

from pm_lib.errors import (
    InsufficientFunds,
    OutcomeUnknown,
    RateLimited,
    RejectedByVenue,
    RetryableError,
    VenueError,
)
from pm_lib.venue.sdk_client import SdkHttp
from pm_lib.venue.trading import map_sdk_error


def answered(status: int, body: object, path: str = "/order", method: str = "POST") -> Exception:
    """The exception the SDK's own transport raises for a non-2xx answer."""
    from polymarket.clients._transport import SyncTransport

    http = SdkHttp(2.0, httpx.MockTransport(lambda request: httpx.Response(status, json=body)))
    transport = SyncTransport(
        base_url="http://venue.invalid", client=http.client("http://venue.invalid")
    )
    try:
        if method == "POST":
            transport.post_json(path, json={})
        else:
            transport.get_json(path)
    except Exception as e:
        return e
    raise AssertionError("the SDK did not raise")


def no_answer(error: httpx.HTTPError) -> TransportError:
    """The exception the SDK raises when httpx failed (timeout, dropped connection)."""
    try:
        raise TransportError(str(error)) from error
    except TransportError as e:
        return e


@pytest.mark.parametrize(
    ("error", "write", "expected"),
    [
        (no_answer(httpx.ReadTimeout("slow")), True, OutcomeUnknown),
        (no_answer(httpx.ConnectError("refused")), False, RetryableError),
        (answered(500, {"error": "boom"}), True, OutcomeUnknown),
        (answered(503, {"error": "busy"}), False, RetryableError),
        (answered(503, {"error": "busy"}), True, OutcomeUnknown),
        (answered(503, {"error": "restart", "code": "post_only_mode"}), True, RetryableError),
        (answered(425, {"error": "restarting"}), True, RetryableError),
        (answered(400, {"error": "not enough balance / allowance"}), True, InsufficientFunds),
        (
            answered(400, {"error": "invalid post-only order: order crosses book"}),
            True,
            RejectedByVenue,
        ),
        (UserInputError("price must be between 0.01 and 0.99"), True, RejectedByVenue),
        (UnexpectedResponseError("non-JSON response"), True, OutcomeUnknown),
        (UnexpectedResponseError("non-JSON response"), False, RetryableError),
        (httpx.ReadTimeout("slow"), True, OutcomeUnknown),
        (httpx.ConnectError("refused"), False, RetryableError),
    ],
)
def test_sdk_errors_map_to_what_the_caller_must_do(
    error: Exception, write: bool, expected: type[VenueError]
) -> None:
    mapped = map_sdk_error(error, action="act", write=write)
    assert type(mapped) is expected


def test_rate_limit_keeps_the_venues_retry_after() -> None:
    error = answered(429, {"error": "slow down", "retry_after_seconds": 2}, "/data/orders", "GET")
    assert isinstance(error, RateLimitError)
    mapped = map_sdk_error(error, action="act", write=False)
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 2.0


def test_venue_error_text_is_kept_in_the_message() -> None:
    error = answered(400, {"error": "Duplicated."})
    assert isinstance(error, RequestRejectedError)
    mapped = map_sdk_error(error, action="post", write=True)
    assert str(mapped) == "post: Duplicated." and mapped.status_code == 400
