"""Credentials out of every text: error messages, exception chains and log records.

``pm_lib.auth`` remembers every credential value it reads or builds (``remember``), refused ones
included. From then on, in this process:

- ``redact(text)`` masks each of its spellings: as written, without ``0x``, in the other base64
  alphabet (``+/`` and ``-_``) and without padding, quoted as ``repr``/``bytes``/JSON quote it
  (once or twice: an exception's repr quotes a message that quotes a value), and, for a value
  with a control character, each piece between them (a log line may be split there); in any
  letter case. A 64-hex private key is masked in any 24-character run too (a truncated key is
  still a leak).
- ``redact_exception(e)`` rewrites the messages of ``e`` and of every exception chained under
  it, in place, so a traceback printed or logged later is clean. The venue adapter calls it on
  every SDK/httpx error (``pm_lib.venue.trading.map_sdk_error``).
- every log record, of any logger (the SDK's, httpx/httpcore/hpack, Prefect's), is masked when
  it is created: its message and its exception's chain (a record factory installed with the
  first remembered value), before any handler formats it or Prefect ships it to its API.

Values shorter than ``MIN_LENGTH`` are not masked (they would mask ordinary words).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

__all__ = [
    "MASK",
    "MIN_LENGTH",
    "has_control_character",
    "redact",
    "redact_exception",
    "remember",
    "spellings",
]

MASK = "**********"
MIN_LENGTH = 8

_HEX_KEY = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_KEY_RUN = 24
_TO_STANDARD = str.maketrans("-_", "+/")
_TO_URLSAFE = str.maketrans("+/", "-_")
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})

_lock = threading.Lock()
_secrets: set[str] = set()
_spellings: tuple[str, ...] = ()  # lower case, longest first
_factory_installed = False


def has_control_character(value: str) -> bool:
    """True when ``value`` holds a control character or a line/paragraph separator."""
    return any(unicodedata.category(ch) in _CONTROL_CATEGORIES for ch in value)


def _quoted(value: str) -> set[str]:
    once = {repr(value)[1:-1], repr(value.encode())[2:-1], json.dumps(value)[1:-1]}
    twice = {repr(q)[1:-1] for q in once} | {json.dumps(q)[1:-1] for q in once}
    return {value} | once | twice


def spellings(secret: str) -> set[str]:
    """Every spelling of ``secret`` that is masked (those of ``MIN_LENGTH`` or more)."""
    value = secret.strip()
    forms = {secret, value}
    if _HEX_KEY.fullmatch(value):
        bare = value.removeprefix("0x")
        forms |= {bare, *(bare[i : i + _KEY_RUN] for i in range(len(bare) - _KEY_RUN + 1))}
    for form in list(forms):
        standard, urlsafe = form.translate(_TO_STANDARD), form.translate(_TO_URLSAFE)
        forms |= {standard, urlsafe, standard.rstrip("="), urlsafe.rstrip("=")}
    pieces = {
        piece
        for form in forms
        for piece in re.split(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", form)
        if piece
    }
    quoted = {q for form in forms | pieces for q in _quoted(form)}
    return {s for s in forms | pieces | quoted if len(s) >= MIN_LENGTH}


def remember(values: Iterable[str | None]) -> None:
    """Mask these values (and their spellings) in every text from now on, in this process."""
    global _spellings
    new = {v for v in values if v and len(v.strip()) >= MIN_LENGTH} - _secrets
    if not new:
        return
    with _lock:
        _secrets.update(new)
        every = {s.lower() for secret in new for s in spellings(secret)} | set(_spellings)
        _spellings = tuple(sorted(every, key=len, reverse=True))  # longest first
    _install_record_factory()


@lru_cache(maxsize=256)
def _pattern_for(found: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, found)), re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every spelling of a remembered secret masked (in any letter case)."""
    known = _spellings
    if not known or not text:
        return text
    lowered = text.lower()
    found = tuple(s for s in known if s in lowered)  # substring tests: fast, no regex
    return _pattern_for(found).sub(MASK, text) if found else text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        text = value.decode("utf-8", "backslashreplace")
        masked = redact(text)
        return value if masked == text else masked.encode()
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    return value


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [e.__cause__, e.__context__]
    return seen


def redact_exception(error: BaseException) -> BaseException:
    """Mask remembered secrets in the messages of ``error`` and every exception chained under
    it (``args`` and the SDK's ``msg``/``error_msg``), in place; returns ``error``."""
    if not _spellings:
        return error
    for e in _chain(error):
        try:
            args = tuple(_redact_value(a) for a in e.args)
            if args != e.args:
                e.args = args
            for attribute in ("msg", "error_msg"):  # error types that keep their text there
                value = vars(e).get(attribute)
                masked = _redact_value(value)
                if masked != value:
                    setattr(e, attribute, masked)
        except Exception:  # an exception type that refuses new args keeps them
            continue
    return error


def _redacting_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if not _spellings:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is left for the handler to report
            return record
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            redact_exception(record.exc_info[1])
            text = "".join(traceback.format_exception(record.exc_info[1])).rstrip("\n")
            record.exc_text = redact(text)
        return record

    return factory


def _install_record_factory() -> None:
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
        _factory_installed = True
