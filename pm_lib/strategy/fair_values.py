"""User-supplied fair values: token id or market slug -> probability, as exact Decimals.

Sources: a CSV file (header ``key,probability``), a JSON object file, or a mapping the flow layer
read from a Prefect Variable (``parse_fair_values``). A market slug names the market's first
outcome (YES); its other outcome gets ``1 - p``. Probabilities must lie in [0, 1]. JSON numbers
are parsed straight to Decimal, never through float.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pm_lib.models import ONE, ZERO, Catalogue

__all__ = ["load_fair_values", "parse_fair_values", "token_fair_values"]


def _probability(key: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"fair value for {key!r} is not a number: {value!r}")
    try:
        # str() of a float is its shortest repr (0.4 -> "0.4"), so no binary noise gets in.
        probability = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as e:
        raise ValueError(f"fair value for {key!r} is not a number: {value!r}") from e
    if not probability.is_finite() or not ZERO <= probability <= ONE:
        raise ValueError(f"fair value for {key!r} must be a probability in [0, 1]: {value!r}")
    return probability


def parse_fair_values(raw: Mapping[str, object]) -> dict[str, Decimal]:
    """Validate a key -> probability mapping (e.g. a Prefect Variable's JSON value)."""
    values: dict[str, Decimal] = {}
    for key, value in raw.items():
        name = str(key).strip()
        if not name:
            raise ValueError("fair value with an empty key")
        values[name] = _probability(name, value)
    return values


def load_fair_values(path: Path) -> dict[str, Decimal]:
    """Read fair values from a ``.csv`` (header ``key,probability``) or ``.json`` object file."""
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        raw = json.loads(text, parse_float=Decimal, parse_int=Decimal)
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a JSON object of key -> probability")
        return parse_fair_values(raw)
    if suffix == ".csv":
        rows = list(csv.reader(text.splitlines()))
        if not rows or [c.strip().lower() for c in rows[0]] != ["key", "probability"]:
            raise ValueError(f"{path}: the first line must be the header 'key,probability'")
        values: dict[str, object] = {}
        for number, row in enumerate(rows[1:], start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{number}: expected 2 columns, got {len(row)}")
            values[row[0]] = row[1]
        return parse_fair_values(values)
    raise ValueError(f"{path}: fair values must be a .csv or .json file")


def token_fair_values(
    catalogue: Catalogue, fair_values: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Fair value per token id. A token id key wins over its market's slug."""
    resolved: dict[str, Decimal] = {}
    for market in catalogue.markets:
        by_slug = fair_values.get(market.slug)
        for index, outcome in enumerate(market.outcomes):
            direct = fair_values.get(outcome.token_id)
            if direct is not None:
                resolved[outcome.token_id] = direct
            elif by_slug is not None and market.is_binary:
                resolved[outcome.token_id] = by_slug if index == 0 else ONE - by_slug
    return resolved
