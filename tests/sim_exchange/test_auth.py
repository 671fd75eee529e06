"""L1/L2 auth: recorded SDK vectors verify; the real SDK gets keys; bad headers get the live 401."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.headers.headers import create_level_1_headers
from py_clob_client_v2.signer import Signer

from pm_lib.sim.accounts import Accounts, ApiKey
from pm_lib.sim.auth import L1_ERROR, L2_ERROR, AuthError, verify_l1, verify_l2
from pm_lib.sim.server import RunningVenue
from pm_lib.sim.venue import SimVenue
from tests.sim_exchange.emulated_venue import KEY_A, KEY_B, authed_client, forged_creds

WIRE_LOG = Path(__file__).parents[1] / "resources" / "v2-sdk-wire-log.SYNTHETIC.json"
WIRE_SECRET = base64.urlsafe_b64encode(b"0123456789abcdef0123456789abcdef").decode()


def _wire_log() -> list[dict[str, Any]]:
    return list(json.loads(WIRE_LOG.read_text()))


def _wire_accounts(address: str) -> Accounts:
    accounts = Accounts(seed=7, autofund=False, autofund_pusd=0)  # type: ignore[arg-type]
    accounts.keys["k-123"] = ApiKey("k-123", WIRE_SECRET, "pp", address, 0)
    return accounts


def test_l1_headers_recorded_from_the_sdk_recover_their_address() -> None:
    entry = _wire_log()[0]
    now = int(entry["headers"]["POLY_TIMESTAMP"])

    address, nonce = verify_l1(entry["headers"], chain_id=137, now=now, window_seconds=30)

    assert (address, nonce) == (entry["headers"]["POLY_ADDRESS"], 0)


@pytest.mark.parametrize(
    "entry",
    [e for e in _wire_log() if "POLY_API_KEY" in e["headers"]],
    ids=lambda e: f"{e['method']} {e['path']}",
)
def test_l2_headers_recorded_from_the_sdk_verify(entry: dict[str, Any]) -> None:
    headers = entry["headers"]
    accounts = _wire_accounts(headers["POLY_ADDRESS"])

    key = verify_l2(
        headers,
        method=entry["method"],
        path=entry["path"],
        body=entry["body"].encode(),
        accounts=accounts,
        now=int(headers["POLY_TIMESTAMP"]),
        window_seconds=30,
    )

    assert key.api_key == "k-123"


def test_l2_rejects_a_body_other_than_the_one_signed() -> None:
    entry = next(e for e in _wire_log() if e["path"] == "/order" and e["method"] == "POST")
    tampered = entry["body"].replace('"side":"BUY"', '"side":"SELL"')

    with pytest.raises(AuthError) as err:
        verify_l2(
            entry["headers"],
            method="POST",
            path="/order",
            body=tampered.encode(),
            accounts=_wire_accounts(entry["headers"]["POLY_ADDRESS"]),
            now=int(entry["headers"]["POLY_TIMESTAMP"]),
            window_seconds=30,
        )

    assert (err.value.status, err.value.message) == (401, L2_ERROR)


def test_create_or_derive_returns_the_same_credentials_for_a_second_client(
    running: RunningVenue,
) -> None:
    first = authed_client(running).creds
    second = authed_client(running).creds

    assert first == second
    assert first is not None and len(first.api_passphrase) == 64


def test_creating_a_key_twice_is_refused_with_the_live_text(running: RunningVenue) -> None:
    client = ClobClient(host=running.clob_url, chain_id=137, key=KEY_A)
    client.create_api_key()

    with pytest.raises(PolyApiException) as err:
        client.create_api_key()

    assert (err.value.status_code, err.value.error_msg) == (
        400,
        {"error": "Could not create api key"},
    )


def test_deriving_before_any_key_exists_is_refused(running: RunningVenue) -> None:
    client = ClobClient(host=running.clob_url, chain_id=137, key=KEY_B)

    with pytest.raises(PolyApiException) as err:
        client.derive_api_key()

    assert err.value.status_code == 400


def test_l1_signature_presented_for_another_address_is_rejected(running: RunningVenue) -> None:
    headers = create_level_1_headers(Signer(KEY_A, 137))
    headers["POLY_ADDRESS"] = Signer(KEY_B, 137).address()

    response = httpx.post(f"{running.clob_url}/auth/api-key", headers=headers)

    assert (response.status_code, response.json()) == (401, {"error": L1_ERROR})


def test_stale_l1_timestamp_is_rejected(running: RunningVenue, venue: SimVenue) -> None:
    client = ClobClient(host=running.clob_url, chain_id=137, key=KEY_A)
    client.create_api_key()
    venue.state.clock.advance(venue.config.auth_window_seconds + 60)

    with pytest.raises(PolyApiException) as err:
        client.derive_api_key()

    assert (err.value.status_code, err.value.error_msg) == (401, {"error": L1_ERROR})


def test_bad_hmac_secret_is_rejected_with_401(running: RunningVenue) -> None:
    good = authed_client(running)
    assert good.creds is not None
    forged = ClobClient(
        host=running.clob_url, chain_id=137, key=KEY_A, creds=forged_creds(good.creds)
    )

    with pytest.raises(PolyApiException) as err:
        forged.get_open_orders()

    assert (err.value.status_code, err.value.error_msg) == (401, {"error": L2_ERROR})


def test_wrong_passphrase_is_rejected_with_401(running: RunningVenue) -> None:
    good = authed_client(running)
    assert good.creds is not None
    good.creds.api_passphrase = "0" * 64

    with pytest.raises(PolyApiException) as err:
        good.get_open_orders()

    assert err.value.status_code == 401


def test_request_without_l2_headers_is_rejected(running: RunningVenue) -> None:
    response = httpx.get(f"{running.clob_url}/data/orders")

    assert (response.status_code, response.json()) == (401, {"error": L2_ERROR})
    assert response.headers["X-Sim-Reason"] == "missing POLY_ADDRESS"


def test_stale_l2_timestamp_is_rejected(running: RunningVenue, venue: SimVenue) -> None:
    client = authed_client(running)
    venue.state.clock.advance(venue.config.auth_window_seconds + 60)

    with pytest.raises(PolyApiException) as err:
        client.get_open_orders()

    assert (err.value.status_code, err.value.error_msg) == (401, {"error": L2_ERROR})


def test_api_key_listing_and_deletion(running: RunningVenue) -> None:
    client = authed_client(running)
    assert client.creds is not None
    key = client.creds.api_key

    listed = client.get_api_keys()
    client.delete_api_key()

    assert listed == {"apiKeys": [key]}
    with pytest.raises(PolyApiException) as err:
        client.get_api_keys()
    assert err.value.status_code == 401


def test_closed_only_mode_is_off(client: ClobClient) -> None:
    assert client.get_closed_only_mode() == {"closed_only": False}


def test_client_on_server_time_keeps_working_after_a_large_clock_advance(
    running: RunningVenue, venue: SimVenue
) -> None:
    client = ClobClient(host=running.clob_url, chain_id=137, key=KEY_A, use_server_time=True)
    client.set_api_creds(client.create_or_derive_api_key())
    venue.state.clock.advance(3600)

    assert client.get_open_orders() == []
