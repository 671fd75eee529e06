"""Masking of remembered credentials in text and exception chains (``pm_lib.redaction``)."""

from __future__ import annotations

import traceback

from pm_lib.redaction import MASK, redact, redact_exception, remember


def test_every_spelling_of_a_remembered_secret_is_masked() -> None:
    secret = "c2VjcmV0+LXZhbHVl/Zm9v=="  # a standard-alphabet base64 secret
    remember([secret])
    for shown in (
        secret,
        "c2VjcmV0-LXZhbHVl_Zm9v==",  # the URL-safe alphabet
        "c2VjcmV0+LXZhbHVl/Zm9v",  # no padding
        secret.upper(),
    ):
        assert redact(f"sent {shown}!") == f"sent {MASK}!"


def test_a_value_with_a_newline_is_masked_quoted_and_in_pieces() -> None:
    remember(["rdx-head-5c1e70\nrdx-tail-2a9b44"])
    quoted_twice = repr(repr(b"rdx-head-5c1e70\nrdx-tail-2a9b44"))
    for text in (quoted_twice, "line 1: rdx-head-5c1e70", "rdx-tail-2a9b44 on line 2"):
        masked = redact(text)
        assert "rdx-head" not in masked and "rdx-tail" not in masked and MASK in masked


def test_a_private_key_is_masked_in_any_24_character_run() -> None:
    key = "0x" + "0123456789abcdef" * 4
    remember([key])
    bare = key[2:]
    for text in (f"key {key[:-1]} truncated", f"a run {bare[10:40].upper()} of it"):
        masked = redact(text)
        assert MASK in masked
        assert not any(bare[i : i + 24] in masked.lower() for i in range(len(bare) - 23))


def test_short_values_are_not_masked() -> None:
    remember(["short"])
    assert redact("a short word") == "a short word"


def test_an_exception_chain_is_masked_in_place() -> None:
    secret = "chain-secret-77f1a0"
    remember([secret])
    message = f"header {secret.encode()!r}"  # the raise line below shows in the traceback
    try:
        try:
            raise OSError(message)
        except OSError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        error = redact_exception(outer)
    assert "chain-secret" not in "".join(traceback.format_exception(error))
