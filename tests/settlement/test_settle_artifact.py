"""The settle artifact names what was merged, redeemed and realised in words a trader reads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flows.settle import _markdown
from pm_lib.models import Catalogue, Event, Market, Outcome
from pm_lib.reporting.labels import MarketLabels
from pm_lib.settlement import SettleReport
from pm_lib.settlement.live import ChainDifference
from pm_lib.store.settlement_actions import APPLIED, FAILED, ChainAction

NOW = datetime(2026, 12, 5, tzinfo=UTC)
COND = "0x" + "c1" * 32


def _action(kind: str, status: str, realised: str) -> ChainAction:
    return ChainAction(
        id=1,
        mode="live",
        kind=kind,
        condition_id=COND,
        wallet="0x" + "11" * 20,
        wallet_type="EOA",
        sizes={"9001": Decimal(10), "9002": Decimal(10)},
        prices={"9001": Decimal("0.55"), "9002": Decimal("0.45")},
        proceeds=Decimal(10),
        cost=Decimal("10.5"),
        fees=Decimal("0.2"),
        realised=Decimal(realised),
        status=status,
        tx_hash="0xabc",
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_artifact_names_markets_and_shows_what_was_realised() -> None:
    market = Market(
        condition_id=COND,
        market_id="77",
        tick_size=Decimal("0.01"),
        min_order_size=Decimal(5),
        question="Will it rain in Paris?",
        slug="rain-paris",
        event_id="e1",
        outcomes=(Outcome(name="Yes", token_id="9001"), Outcome(name="No", token_id="9002")),
    )
    catalogue = Catalogue(
        markets=(market,), events=(Event(event_id="e1", title="Weather", slug="w"),), fetched_at=NOW
    )
    report = SettleReport(
        mode="live",
        applied=(_action("merge", APPLIED, "-0.7"),),
        failed=(_action("redeem", FAILED, "0"),),
        differences=(ChainDifference("9001", COND, 10_000_000, 11_000_000),),
        pusd=Decimal("990.25"),
    )

    text = _markdown(report, MarketLabels.of_catalogue(catalogue))

    assert "| merge | Will it rain in Paris? | applied | 10 | 10.5 | 0.2 | -0.7 | 0xabc |" in text
    assert "| redeem | Will it rain in Paris? | failed |" in text
    assert "settled: 1, proceeds 10 pUSD, realised -0.7 pUSD" in text
    assert "wallet pUSD on chain: 990.25" in text
    assert "DIFFERENCE Will it rain in Paris? - Yes: ledger 10, chain 11" in text
