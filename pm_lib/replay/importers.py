"""Importers: public recorded Polymarket book data sets into the recording format.

- **resolvedkit** (PyPI ``resolvedkit`` 0.1.0, ``resolvedkit/sample_data/``; homepage
  github.com/resolvedmarkets/resolvedkit; the sample data is CC BY 4.0, credit: resolvedkit /
  resolvedmarkets): L2 ladders (up to 20 levels a side) of both outcomes of 18 settled BTC
  15-minute "Up or Down" markets, with their payouts. ``sample_books_L2`` rows are
  ``market_id, ts (ms), side (UP|DOWN), bid_px[], bid_sz[], ask_px[], ask_sz[]``;
  ``sample_markets`` rows are ``market_id, slug, question, start_ts, end_ts, outcome_up,
  outcome_down, payout_up, payout_down``. Each ladder row becomes a ``book`` message; the
  payouts become ``resolutions.json``. The set has no token ids: each outcome's token id is
  derived from the condition id and the outcome (``synthetic_token_id``).
- **polymarket-backtest** (PyPI ``polymarket-backtest`` 0.1.0,
  ``polymarket_backtest/data/sample/btc_orderbook.csv``, MIT): top of book of BTC 15-minute
  markets on 2026-04-01, one row per update: ``recorded_at_ts`` (s), ``market_slug``,
  ``question``, ``up_token_id``, ``down_token_id``, ``market_end_ts``, ``up_bid``,
  ``up_bid_size``, ``up_ask``, ``up_ask_size`` and the same for ``down``. Each row becomes two
  ``book`` messages of one level a side (what the set holds; depth beyond it is unknown). The
  set has no condition ids (derived from the slug) and no outcomes (no ``resolutions.json``).

Both sets' markets are 15-minute crypto markets, which carry the venue's crypto taker fees
(``feeSchedule`` rate 0.25, exponent 2 in recorded Gamma rows); the importers write that schedule
unless told otherwise (``fee_rate=None``: fees disabled). Tick 0.01, minimum size 5.

Rows are read from the original files (parquet needs ``pyarrow``; CSV, optionally gzipped) or
from JSON lines with the same columns (the form of the slices kept in tests/resources).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from pm_lib.replay.recorder import RecordingWriter
from pm_lib.replay.recording import MARKETS_FILE, RESOLUTIONS_FILE, BadRecording

__all__ = [
    "CRYPTO_FEES",
    "import_polymarket_backtest",
    "import_resolvedkit",
    "read_rows",
    "synthetic_token_id",
]

CRYPTO_FEES = (Decimal("0.25"), Decimal(2))


def synthetic_token_id(condition_id: str, outcome: str) -> str:
    """A stable decimal token id for a data set that has none (77 digits, like the venue's)."""
    digest = hashlib.sha256(f"{condition_id}:{outcome}".encode()).digest()
    return str(int.from_bytes(digest, "big"))


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a ``.parquet`` (pyarrow), ``.csv[.gz]`` or ``.jsonl[.gz]`` file."""
    name = path.name
    if name.endswith(".parquet"):
        try:
            import pyarrow.parquet as pq
        except ImportError as e:
            raise BadRecording(
                f"{path}: reading parquet needs pyarrow (uv run --with pyarrow ...)"
            ) from e
        yield from pq.read_table(path).to_pylist()
        return
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        if ".csv" in name:
            yield from csv.DictReader(handle)
        elif ".jsonl" in name:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
        else:
            raise BadRecording(f"{path}: expected .parquet, .csv[.gz] or .jsonl[.gz]")


_MICRO = Decimal("0.000001")


def _text(value: Any) -> str:
    """A number as the venue writes it ("0.5", "205", "232.25"). The parquet set stores
    doubles (1.9300000000000002): they are rounded to the venue's 6 decimals."""
    number = Decimal(str(value)).quantize(_MICRO)
    return format(number.normalize(), "f") if number else "0"


def _number(value: Decimal) -> int | float:
    """A JSON number as Gamma writes it (2, 0.25)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gamma_row(
    condition_id: str,
    question: str,
    slug: str,
    outcomes: list[str],
    tokens: list[str],
    end_ms: int,
    fee_rate: Decimal | None,
    fee_exponent: Decimal,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": condition_id[-8:],
        "conditionId": condition_id,
        "question": question,
        "slug": slug,
        "outcomes": json.dumps(outcomes),
        "clobTokenIds": json.dumps(tokens),
        "active": True,
        "closed": False,
        "enableOrderBook": True,
        "acceptingOrders": True,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "endDate": _iso(end_ms),
        "negRisk": False,
        "feesEnabled": fee_rate is not None,
    }
    if fee_rate is not None:
        row["feeType"] = "crypto_fees"
        row["feeSchedule"] = {
            "rate": _number(fee_rate),
            "exponent": _number(fee_exponent),
            "takerOnly": True,
            "rebateRate": 0,
        }
    return row


def _book(
    token: str,
    market: str,
    ts: int,
    bids: Iterable[tuple[Any, Any]],
    asks: Iterable[tuple[Any, Any]],
) -> dict[str, Any]:
    """A ``book`` message, levels in the venue's order (best last)."""
    bid_levels = sorted((Decimal(_text(p)), s) for p, s in bids if Decimal(_text(s)) > 0)
    ask_levels = sorted(
        ((Decimal(_text(p)), s) for p, s in asks if Decimal(_text(s)) > 0), reverse=True
    )
    return {
        "event_type": "book",
        "asset_id": token,
        "market": market,
        "bids": [{"price": _text(p), "size": _text(s)} for p, s in bid_levels],
        "asks": [{"price": _text(p), "size": _text(s)} for p, s in ask_levels],
        "hash": "",
        "timestamp": str(ts),
    }


def _list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value or [])


def import_resolvedkit(
    books: Path,
    markets: Path,
    directory: Path,
    *,
    fee_rate: Decimal | None = CRYPTO_FEES[0],
    fee_exponent: Decimal = CRYPTO_FEES[1],
) -> int:
    """Write the resolvedkit sample (or a slice of it) as a recording; the messages written."""
    market_rows = list(read_rows(markets))
    gamma: list[dict[str, Any]] = []
    resolutions: list[dict[str, Any]] = []
    tokens: dict[tuple[str, str], str] = {}
    for m in market_rows:
        condition = str(m["market_id"])
        up, down = synthetic_token_id(condition, "UP"), synthetic_token_id(condition, "DOWN")
        tokens[(condition, "UP")], tokens[(condition, "DOWN")] = up, down
        row = _gamma_row(
            condition,
            str(m["question"]),
            str(m["slug"]),
            [str(m["outcome_up"]), str(m["outcome_down"])],
            [up, down],
            int(m["end_ts"]),
            fee_rate,
            fee_exponent,
        )
        gamma.append(row)
        resolutions.append(
            {
                **row,
                "closed": True,
                "outcomePrices": json.dumps([_text(m["payout_up"]), _text(m["payout_down"])]),
            }
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKETS_FILE).write_bytes(orjson.dumps(gamma))
    (directory / RESOLUTIONS_FILE).write_bytes(orjson.dumps(resolutions))
    messages = []
    for r in read_rows(books):
        key = (str(r["market_id"]), str(r["side"]).upper())
        if key not in tokens:
            continue  # a ladder of a market the markets file does not list
        messages.append(
            _book(
                tokens[key],
                key[0],
                int(r["ts"]),
                zip(_list(r["bid_px"]), _list(r["bid_sz"]), strict=True),
                zip(_list(r["ask_px"]), _list(r["ask_sz"]), strict=True),
            )
        )
    return _write_sorted(directory, messages)


def import_polymarket_backtest(
    csv_path: Path,
    directory: Path,
    *,
    fee_rate: Decimal | None = CRYPTO_FEES[0],
    fee_exponent: Decimal = CRYPTO_FEES[1],
) -> int:
    """Write the polymarket-backtest top-of-book CSV (or a slice) as a recording."""
    gamma: dict[str, dict[str, Any]] = {}
    messages = []
    for r in read_rows(csv_path):
        slug = str(r["market_slug"])
        condition = "0x" + hashlib.sha256(slug.encode()).hexdigest()
        up, down = str(r["up_token_id"]), str(r["down_token_id"])
        if condition not in gamma:
            gamma[condition] = _gamma_row(
                condition,
                str(r["question"]),
                slug,
                ["Up", "Down"],
                [up, down],
                int(Decimal(str(r["market_end_ts"])) * 1000),
                fee_rate,
                fee_exponent,
            )
        ts = int(Decimal(str(r["recorded_at_ts"])) * 1000)
        for token, side in ((up, "up"), (down, "down")):
            bid, ask = r[f"{side}_bid"], r[f"{side}_ask"]
            messages.append(
                _book(
                    token,
                    condition,
                    ts,
                    [(bid, r[f"{side}_bid_size"])] if bid not in ("", None) else [],
                    [(ask, r[f"{side}_ask_size"])] if ask not in ("", None) else [],
                )
            )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKETS_FILE).write_bytes(orjson.dumps(list(gamma.values())))
    return _write_sorted(directory, messages)


def _write_sorted(directory: Path, messages: list[dict[str, Any]]) -> int:
    messages.sort(key=lambda m: int(m["timestamp"]))  # stable: ties keep the file's order
    writer = RecordingWriter(directory, rotate_messages=100_000, gzip_files=True)
    try:
        for message in messages:
            writer.write(message)
    finally:
        writer.close()
    return writer.written


def rows_as_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    """Rows as JSON lines (how slices of the parquet sets are kept)."""
    out = io.StringIO()
    for row in rows:
        out.write(json.dumps(row) + "\n")
    return out.getvalue()
