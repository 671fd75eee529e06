"""pm_lib.venue.chain: the private SDK surface it relies on, and its send hook, on the emulator.

If a polymarket-client upgrade moves any private name below, this fails loudly (as
test_sdk_environment does for the environment hook) instead of a live settle losing the
transaction hash it must journal before sending.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pm_lib.auth import credentials_from_mapping
from pm_lib.errors import ConfigurationError
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.venue.chain import ChainClient, SendHandle, open_chain_client
from tests.execution.emulator import COND, KEY, NO, YES, control, make_venue

PRIVATE = {
    "polymarket._internal.actions.relayer.calls": (
        "erc1155_balance_of_batch_call",
        "decode_erc1155_balance_of_batch_result",
        "erc1155_is_approved_for_all_call",
        "decode_erc1155_is_approved_for_all_result",
    ),
    "polymarket._internal.actions.relayer.poll": ("fetch_gasless_transaction_sync",),
    "polymarket._internal.environment": ("get_environment_config",),
    "polymarket._internal.wallet": ("try_classify_wallet_type",),
}


def test_the_private_sdk_names_the_chain_adapter_uses_exist() -> None:
    for module, names in PRIVATE.items():
        found = importlib.import_module(module)
        for name in names:
            assert callable(getattr(found, name, None)), f"{module}.{name} moved"


@pytest.fixture
def running() -> Iterator[RunningVenue]:
    with running_venue(make_venue()) as r:
        yield r


@pytest.fixture
def chain(running: RunningVenue, tmp_path: Path) -> Iterator[ChainClient]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, clob_url=running.clob_url, gamma_url=running.gamma_url, data_dir=tmp_path
    )
    credentials = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})
    control(
        running,
        "POST",
        f"/wallets/{credentials.address}/fund",
        {"tokens": {YES: "5", NO: "5"}, "approve": True},
    )
    with open_chain_client(settings, credentials) as client:
        assert isinstance(client._ctx.rpc._transport._client, httpx.Client)  # the hook's seat
        yield client


def test_the_hash_is_known_before_the_send_and_is_the_one_the_chain_mines(
    chain: ChainClient, running: RunningVenue
) -> None:
    seen: list[SendHandle] = []

    def journal(handle: SendHandle) -> None:
        assert control(running, "GET", "/chain/transactions") == []  # nothing sent yet
        seen.append(handle)

    answer = chain.merge(COND, 2_000_000, journal)

    [handle] = seen
    assert handle.tx_hash == answer.tx_hash and handle.nonce == "0"
    assert chain.receipt(handle.tx_hash or "").state == "confirmed"
    assert chain.position_balances([YES, NO]) == {YES: 3_000_000, NO: 3_000_000}


def test_a_journal_that_cannot_be_written_stops_the_send(
    chain: ChainClient, running: RunningVenue
) -> None:
    def broken(handle: SendHandle) -> None:
        raise RuntimeError("database is locked")

    with pytest.raises(RuntimeError, match="database is locked"):
        chain.merge(COND, 2_000_000, broken)

    assert control(running, "GET", "/chain/transactions") == []
    assert chain.position_balances([YES, NO]) == {YES: 5_000_000, NO: 5_000_000}


def test_a_funder_that_is_not_the_signers_wallet_is_refused(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    credentials = credentials_from_mapping(
        {
            "POLYMARKET_PRIVATE_KEY": KEY,
            "POLYMARKET_SIGNATURE_TYPE": "1",
            "POLYMARKET_FUNDER": "0x" + "12" * 20,
        }
    )
    with pytest.raises(ConfigurationError, match="is not the POLY_PROXY wallet"):
        open_chain_client(settings, credentials)
