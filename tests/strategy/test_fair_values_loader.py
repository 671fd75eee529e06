"""Fair values load from CSV, JSON or a mapping as exact Decimals, and refuse bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pm_lib.strategy import load_fair_values, parse_fair_values
from tests.strategy.builders import D


def test_csv_with_header_loads_exact_decimals(tmp_path: Path) -> None:
    path = tmp_path / "fair.csv"
    path.write_text("key,probability\n123456,0.615\nsome-market-slug, 0.2\n\n")
    assert load_fair_values(path) == {"123456": D("0.615"), "some-market-slug": D("0.2")}


def test_json_object_numbers_never_pass_through_float(tmp_path: Path) -> None:
    path = tmp_path / "fair.json"
    path.write_text('{"123456": 0.1, "slug": "0.35", "sure": 1}')
    values = load_fair_values(path)
    assert values == {"123456": D("0.1"), "slug": D("0.35"), "sure": D(1)}
    assert str(values["123456"]) == "0.1"


def test_prefect_variable_floats_keep_their_short_form() -> None:
    assert parse_fair_values({"t": 0.1}) == {"t": D("0.1")}


@pytest.mark.parametrize("value", ["1.2", "-0.1", "abc", True, None, "NaN"])
def test_values_outside_zero_one_or_not_numbers_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="fair value for 't'"):
        parse_fair_values({"t": value})


def test_csv_without_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fair.csv"
    path.write_text("123456,0.6\n")
    with pytest.raises(ValueError, match="header 'key,probability'"):
        load_fair_values(path)


def test_other_file_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "fair.txt"
    path.write_text("")
    with pytest.raises(ValueError, match=r"\.csv or \.json"):
        load_fair_values(path)
