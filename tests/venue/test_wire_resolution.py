"""Gamma resolutions: closed + umaResolutionStatus "resolved" + final outcomePrices, or nothing;
a resolved row whose payouts cannot be trusted is refused (never guessed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pm_lib.errors import BadVenueData
from pm_lib.venue.wire import parse_gamma_resolution, resolution_agrees_with_clob

COND = "0x" + "ab" * 32


def _row(**changes: Any) -> dict[str, Any]:
    row = {
        "id": "1",
        "conditionId": COND,
        "closed": True,
        "umaResolutionStatus": "resolved",
        "outcomes": '["Yes", "No"]',
        "clobTokenIds": '["11", "12"]',
        "outcomePrices": '["0", "1"]',
        "updatedAt": "2026-12-05T10:00:00.123456Z",
    }
    return row | changes


def test_a_resolved_row_gives_the_payout_of_each_token() -> None:
    resolution = parse_gamma_resolution(_row())

    assert resolution is not None
    assert resolution.payouts == {"11": Decimal(0), "12": Decimal(1)}
    assert (resolution.winning_token_id, resolution.winning_outcome) == ("12", "No")


def test_a_fifty_fifty_resolution_has_no_single_winner() -> None:
    resolution = parse_gamma_resolution(_row(outcomePrices='["0.5", "0.5"]'))

    assert resolution is not None and resolution.winning_token_id is None
    assert resolution.payouts == {"11": Decimal("0.5"), "12": Decimal("0.5")}


@pytest.mark.parametrize(
    "changes",
    [{"closed": False}, {"umaResolutionStatus": "proposed"}, {"umaResolutionStatus": None}],
)
def test_an_open_or_unresolved_market_is_no_resolution(changes: dict[str, Any]) -> None:
    assert parse_gamma_resolution(_row(**changes)) is None


@pytest.mark.parametrize(
    "prices",
    ['["0.9545", "0.0455"]', '["1", "1"]', '["1"]', '["x", "0"]', '["1.5", "-0.5"]'],
)
def test_a_resolved_row_without_trustworthy_payouts_is_refused(prices: str) -> None:
    with pytest.raises(BadVenueData):
        parse_gamma_resolution(_row(outcomePrices=prices))


def _clob(closed: bool = True, winners: tuple[bool, bool] = (False, True)) -> dict[str, Any]:
    return {
        "condition_id": COND,
        "closed": closed,
        "tokens": [
            {"token_id": "11", "outcome": "Yes", "winner": winners[0]},
            {"token_id": "12", "outcome": "No", "winner": winners[1]},
        ],
    }


def test_the_clob_winner_flags_confirm_the_gamma_payouts() -> None:
    resolution = parse_gamma_resolution(_row())
    assert resolution is not None

    resolution_agrees_with_clob(resolution, _clob())  # no error


@pytest.mark.parametrize(
    "clob",
    [
        _clob(closed=False),
        _clob(winners=(True, False)),  # Gamma's clobTokenIds order disagrees (#276)
        _clob(winners=(False, False)),
    ],
)
def test_a_clob_market_that_disagrees_refuses_the_resolution(clob: dict[str, Any]) -> None:
    resolution = parse_gamma_resolution(_row())
    assert resolution is not None

    with pytest.raises(BadVenueData):
        resolution_agrees_with_clob(resolution, clob)
