"""The adapter's error mapping and HTTP client: SDK failures become pm-agent's error tree."""

from __future__ import annotations

import httpx
import pytest
from py_clob_client_v2.exceptions import PolyApiException, PolyException

from pm_lib.errors import (
    InsufficientFunds,
    OutcomeUnknown,
    RateLimited,
    RejectedByVenue,
    RetryableError,
    VenueError,
)
from pm_lib.venue.trading import map_sdk_error


def answered(status: int, body: object) -> PolyApiException:
    """The exception the SDK raises for a non-200 answer."""
    return PolyApiException(httpx.Response(status, json=body))


def no_answer() -> PolyApiException:
    """The exception the SDK raises when httpx failed (timeout, dropped connection)."""
    return PolyApiException(error_msg="Request exception!")


@pytest.mark.parametrize(
    ("error", "write", "expected"),
    [
        (no_answer(), True, OutcomeUnknown),
        (no_answer(), False, RetryableError),
        (answered(500, {"error": "boom"}), True, OutcomeUnknown),
        (answered(503, {"error": "busy"}), False, RetryableError),
        (answered(425, {"error": "restarting"}), True, RetryableError),
        (answered(400, {"error": "not enough balance / allowance"}), True, InsufficientFunds),
        (
            answered(400, {"error": "invalid post-only order: order crosses book"}),
            True,
            RejectedByVenue,
        ),
        (PolyException("invalid price (1.2), min: 0.01 - max: 0.99"), True, RejectedByVenue),
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
    mapped = map_sdk_error(
        answered(429, {"error": "slow down", "retry_after_seconds": 2}), action="act", write=False
    )
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 2.0


def test_venue_error_text_is_kept_in_the_message() -> None:
    mapped = map_sdk_error(answered(400, {"error": "Duplicated."}), action="post", write=True)
    assert str(mapped) == "post: Duplicated." and mapped.status_code == 400
