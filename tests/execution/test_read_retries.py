"""One read-retry policy at the adapter: the SDK's reads retry as the async reader's do.

Through the real SDK against the emulator (faults via ``/_sim/faults``): a read survives a 5xx,
gives up after ``PM_HTTP_MAX_RETRIES``, waits out a 429's Retry-After; a refused read and every
write are sent once.
"""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from pm_lib.auth import ApiCredentials, Credentials
from pm_lib.errors import OutcomeUnknown, RejectedByVenue, RetryableError
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.venue.http import RetryPolicy
from pm_lib.venue.trading import SdkHttp, TradingClient, derive_api_credentials
from tests.execution.emulator import control


def fault(
    running: RunningVenue, path: str, status: int, method: str = "GET", **rule: object
) -> None:
    body = {"kind": "error", "path": path, "method": method, "status": status, **rule}
    control(running, "POST", "/faults", body)


def client(
    settings: Settings, credentials: Credentials, slept: list[float], retries: int = 3
) -> TradingClient:
    """The adapter as ``connect`` builds it, with its waits recorded instead of slept."""
    api = derive_api_credentials(settings.clob_url, settings.chain_id, credentials)
    return TradingClient(
        settings.clob_url,
        settings.chain_id,
        credentials.with_api(api),
        http=SdkHttp.from_settings(settings),
        retry=RetryPolicy(max_retries=retries, timeout_seconds=settings.http_timeout_seconds),
        sleep=slept.append,
    )


def test_a_balance_read_survives_one_5xx(
    running: RunningVenue, live_settings: Settings, credentials: Credentials
) -> None:
    fault(running, "/balance-allowance", 503, count=1)
    balance, _ = TradingClient.connect(live_settings, credentials).collateral()  # real waits
    assert balance > 0


def test_without_retries_the_same_5xx_fails_the_read(
    running: RunningVenue, live_settings: Settings, credentials: Credentials
) -> None:
    """The fault above is real: with no retries it reaches the caller."""
    fault(running, "/balance-allowance", 503, count=1)
    slept: list[float] = []
    with pytest.raises(RetryableError, match="balance: HTTP 503"):
        client(live_settings, credentials, slept, retries=0).collateral()
    assert slept == []


def test_a_read_gives_up_after_the_policys_retries(
    running: RunningVenue, live_settings: Settings, credentials: Credentials
) -> None:
    fault(running, "/data/orders", 502)
    slept: list[float] = []
    with pytest.raises(RetryableError, match="open orders: HTTP 502"):
        client(live_settings, credentials, slept, retries=3).open_orders()
    assert len(slept) == 3  # 4 attempts
    assert all(0.25 <= d <= 0.5 * 2**i for i, d in enumerate(slept))  # exponential, jittered


def test_a_refused_read_is_not_retried(
    running: RunningVenue, live_settings: Settings, credentials: Credentials
) -> None:
    """A 404 (other than an order lookup's "not found") is the venue's answer: sent once. The
    fault fires once, so a second attempt would have succeeded."""
    fault(running, "/balance-allowance", 404, count=1)
    slept: list[float] = []
    with pytest.raises(RejectedByVenue):
        client(live_settings, credentials, slept).collateral()
    assert slept == []


def test_a_write_is_sent_once(
    running: RunningVenue, live_settings: Settings, credentials: Credentials
) -> None:
    """A cancel answered 503 once is not resent (a second attempt would have gone through)."""
    fault(running, "/order", 503, method="DELETE", count=1)
    slept: list[float] = []
    with pytest.raises(OutcomeUnknown):
        client(live_settings, credentials, slept).cancel("0x" + "ab" * 32)
    assert slept == []


def test_a_429_is_retried_after_the_venues_retry_after(credentials: Credentials) -> None:
    """The emulator's limits answer 429 on writes only; a scripted read shows the wait."""
    answers = [
        httpx.Response(429, json={"error": "slow down", "retry_after_seconds": 2}),
        httpx.Response(200, json={"balance": "5000000", "allowances": {}}),
    ]

    def venue(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/api-keys":  # the SDK checks the key as it opens
            return httpx.Response(200, json={"apiKeys": ["k"]})
        return answers.pop(0)

    slept: list[float] = []
    keyed = credentials.with_api(
        ApiCredentials(
            api_key=SecretStr("k"), secret=SecretStr("c2VjcmV0"), passphrase=SecretStr("p")
        )
    )
    adapter = TradingClient(
        "http://venue.invalid",
        137,
        keyed,
        http=SdkHttp(3.0, httpx.MockTransport(venue)),
        retry=RetryPolicy(max_retries=2, timeout_seconds=3.0),
        sleep=slept.append,
    )
    assert adapter.collateral()[0] == 5
    assert slept == [2.0]
