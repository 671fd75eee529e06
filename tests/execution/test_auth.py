"""Credentials: validated, masked, and never quoted back in an error."""

from __future__ import annotations

import json

import pytest

from pm_lib.auth import credentials_from_mapping, credentials_from_secret_block, load_credentials
from pm_lib.errors import ConfigurationError

KEY = "0x" + "ab" * 32
API = {
    "POLYMARKET_API_KEY": "marker-api-key-7f3e",
    "POLYMARKET_SECRET": "marker-secret-9c1d",
    "POLYMARKET_PASSPHRASE": "marker-pass-4b2a",
}


def test_key_alone_loads_with_api_credentials_left_to_derive() -> None:
    creds = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})
    assert creds.api is None
    assert creds.signature_type == 0
    assert creds.address.startswith("0x") and len(creds.address) == 42
    assert creds.funds_address == creds.address


def test_full_set_loads_from_environment_mapping() -> None:
    env = {"POLYMARKET_PRIVATE_KEY": KEY, **API, "POLYMARKET_SIGNATURE_TYPE": "0"}
    creds = load_credentials(env)
    assert creds.api is not None
    assert creds.api.secret.get_secret_value() == "marker-secret-9c1d"


def test_str_and_repr_mask_every_secret() -> None:
    creds = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY, **API})
    for text in (str(creds), repr(creds), str(creds.api), repr(creds.api), str(creds.model_dump())):
        assert "ab" * 32 not in text
        for value in API.values():
            assert value not in text


def test_missing_key_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="POLYMARKET_PRIVATE_KEY is not set"):
        credentials_from_mapping({})


@pytest.mark.parametrize("bad", ["0x1234", "0x" + "zz" * 32, "0x" + "ab" * 33])
def test_malformed_key_is_refused_without_quoting_it(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": bad})
    assert "POLYMARKET_PRIVATE_KEY" in str(info.value)
    assert bad not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_out_of_curve_key_is_refused_without_quoting_it() -> None:
    zero = "0x" + "00" * 32  # well-formed hex, not a valid secp256k1 scalar
    with pytest.raises(ConfigurationError, match="not a valid secp256k1 key") as info:
        credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": zero})
    assert zero not in str(info.value)


def test_partial_api_credentials_are_refused_naming_the_missing_ones() -> None:
    partial = {"POLYMARKET_PRIVATE_KEY": KEY, "POLYMARKET_API_KEY": "marker-api-key-7f3e"}
    with pytest.raises(ConfigurationError, match="POLYMARKET_SECRET, POLYMARKET_PASSPHRASE"):
        credentials_from_mapping(partial)


@pytest.mark.parametrize("bad", ["4", "-1", "eoa", "1.0"])
def test_signature_type_must_be_0_to_3(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="POLYMARKET_SIGNATURE_TYPE must be"):
        credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY, "POLYMARKET_SIGNATURE_TYPE": bad})


def test_proxy_signature_types_need_a_funder() -> None:
    with pytest.raises(ConfigurationError, match="POLYMARKET_FUNDER is required"):
        credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY, "POLYMARKET_SIGNATURE_TYPE": "3"})


def test_malformed_funder_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="POLYMARKET_FUNDER is malformed"):
        credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY, "POLYMARKET_FUNDER": "0x12"})


def test_funder_and_signature_type_are_kept() -> None:
    funder = "0x" + "12" * 20
    creds = credentials_from_mapping(
        {
            "POLYMARKET_PRIVATE_KEY": KEY,
            "POLYMARKET_FUNDER": funder,
            "POLYMARKET_SIGNATURE_TYPE": "3",
        }
    )
    assert (creds.funder, creds.signature_type, creds.funds_address) == (funder, 3, funder)


def test_credentials_load_from_a_prefect_secret_block_holding_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.blocks.system import Secret

    block = Secret(value=json.dumps({"POLYMARKET_PRIVATE_KEY": KEY, **API}))
    monkeypatch.setattr(Secret, "load", classmethod(lambda cls, name, **kw: block))
    creds = credentials_from_secret_block("pm-agent-live")
    assert creds.api is not None and creds.api.passphrase.get_secret_value() == "marker-pass-4b2a"


def test_a_secret_block_that_is_not_a_json_object_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.blocks.system import Secret

    block = Secret(value="0x" + "ab" * 32)
    monkeypatch.setattr(Secret, "load", classmethod(lambda cls, name, **kw: block))
    with pytest.raises(ConfigurationError, match="is not a JSON object") as info:
        credentials_from_secret_block("pm-agent-live")
    assert "ab" * 32 not in str(info.value)


RELAYER = {
    "POLYMARKET_RELAYER_API_KEY": "marker-relayer-key-5d8e",
    "POLYMARKET_RELAYER_API_KEY_ADDRESS": "0x" + "34" * 20,
}


def test_the_relayer_api_key_loads_masked_and_is_redacted_everywhere() -> None:
    from pm_lib.redaction import redact

    creds = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY, **RELAYER})
    assert creds.relayer_api_key is not None
    assert creds.relayer_api_key.get_secret_value() == RELAYER["POLYMARKET_RELAYER_API_KEY"]
    assert creds.relayer_api_key_address == RELAYER["POLYMARKET_RELAYER_API_KEY_ADDRESS"]
    assert "marker-relayer" not in str(creds) + repr(creds)
    assert "marker-relayer" not in redact("relayer said: bad key marker-relayer-key-5d8e")


@pytest.mark.parametrize("half", list(RELAYER))
def test_the_relayer_key_and_its_address_come_together(half: str) -> None:
    with pytest.raises(ConfigurationError, match="together") as caught:
        credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY, half: RELAYER[half]})
    assert "marker-relayer" not in str(caught.value)
