"""Reporting renders exact decimal strings and readable summaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pm_lib.models import (
    FeeSchedule,
    Leg,
    Market,
    Opportunity,
    OrderResult,
    OrderStatus,
    Outcome,
    RiskDecision,
    Side,
)
from pm_lib.portfolio import DayPnl, PositionValue
from pm_lib.reporting.labels import MarketLabels
from pm_lib.reporting.summary import (
    DailyReport,
    RunSummary,
    daily_report_markdown,
    summary_markdown,
)
from pm_lib.reporting.tables import decision_rows, opportunity_rows, order_rows, plain_decimal

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _opportunity() -> Opportunity:
    leg = Leg(
        token_id="1234567890123",
        condition_id="0xabc",
        side=Side.BUY,
        size=Decimal("20"),
        limit_price=Decimal("0.55"),
        expected_vwap=Decimal("0.65"),
    )
    return Opportunity(
        id="opp-1",
        strategy="complement_arbitrage",
        market="0xabc",
        legs=(leg,),
        edge=Decimal("0.1234567"),
        cost=Decimal("13"),
        fees=Decimal("0.01"),
        payout=Decimal("20"),
        reason="test",
        created_at=NOW,
    )


def test_money_is_a_plain_decimal_string_without_exponent() -> None:
    assert plain_decimal(Decimal("1E-7")) == "0"
    assert plain_decimal(Decimal("0.1234567")) == "0.123457"
    assert plain_decimal(Decimal("1200.50")) == "1200.5"
    assert plain_decimal(Decimal("5"), 2) == "5"
    assert plain_decimal(None) == ""


def test_opportunity_rows_show_legs_and_net_edge() -> None:
    (row,) = opportunity_rows([_opportunity()])
    assert row["edge (pUSD)"] == "0.12", "to the cent: the exact edge is in the reason"
    assert row["legs"] == "BUY 20 token 67890123 <= 0.55 (vwap 0.65)"


def test_a_basket_is_one_row_with_its_legs_summarised() -> None:
    one = _opportunity()
    basket = one.model_copy(
        update={
            "legs": (
                one.legs[0],
                one.legs[0].model_copy(update={"token_id": "555", "limit_price": Decimal("0.32")}),
            )
        }
    )
    (row,) = opportunity_rows([basket])
    assert row["legs"] == "2 legs: BUY 20 @ 0.32-0.55"
    assert list(row)[:5] == ["market", "edge (pUSD)", "cost (pUSD)", "fees (pUSD)", "legs"]


def test_decision_rows_join_the_strategy() -> None:
    decision = RiskDecision(
        opportunity_id="opp-1",
        approved=False,
        rule="slippage",
        reason="VWAP 0.65 is 0.10 over the limit",
        decided_at=NOW,
    )
    (row,) = decision_rows([decision], {"opp-1": _opportunity()})
    assert row == {
        "market": "0xabc",
        "strategy": "complement_arbitrage",
        "approved": "no",
        "rule": "slippage",
        "reason": "VWAP 0.65 is 0.10 over the limit",
        "opportunity_id": "opp-1",
    }


def test_order_rows_render_status_and_fill() -> None:
    result = OrderResult(
        intent_key="k",
        order_id="paper-1",
        status=OrderStatus.MATCHED,
        filled_size=Decimal("5"),
        avg_price=Decimal("0.5"),
        fee=Decimal("0.05"),
    )
    (row,) = order_rows([result])
    assert row["status"] == "MATCHED" and row["filled"] == "5 @ 0.5" and row["fee (pUSD)"] == "0.05"


def test_summary_lists_stage_shares_and_kill_switch() -> None:
    text = summary_markdown(
        RunSummary(
            run_id="r1",
            mode="paper",
            markets=10,
            books=20,
            opportunities=1,
            approved=1,
            orders=2,
            stage_seconds={"books": Decimal("3"), "signals": Decimal("1")},
            halted=True,
            halted_reason="manual",
        )
    )
    assert "| books | 3 | 75% |" in text
    assert "HALTED (manual)" in text


def test_daily_report_accumulates_net_pnl() -> None:
    days = (
        DayPnl(day=date(2026, 11, 21), realised=Decimal("2"), fees=Decimal("0.5")),
        DayPnl(day=date(2026, 11, 22), realised=Decimal("-1"), fees=Decimal("0.5")),
    )
    text = daily_report_markdown(DailyReport(mode="paper", as_of=NOW, days=days))
    assert "| 2026-11-22 | 0 | -1 | 0.5 | 0 | -1.5 | 0 |" in text
    assert "data:image/svg+xml;base64," not in text, "no image blob in a terminal"
    ui = daily_report_markdown(DailyReport(mode="paper", as_of=NOW, days=days), chart=True)
    assert "![Net P&L by UTC day (pUSD)](data:image/svg+xml;base64," in ui
    assert ui.index("## Net P&L by day") < ui.index("Open positions"), "the chart comes first"
    assert "🟩" not in ui and "🟥" not in ui


def test_daily_report_shows_unrealised_pnl_values_and_equity() -> None:
    held = PositionValue(
        token_id="9001",
        condition_id="0xc1",
        size=Decimal("10"),
        cost=Decimal("5"),
        value=Decimal("3.5"),
        source="mark",
        marked_at=NOW,
    )
    today = DayPnl(day=NOW.date(), fees=Decimal("0.1"), unrealised=Decimal("-1.5"), fills=1)
    report = DailyReport(
        mode="paper",
        as_of=NOW,
        days=(today,),
        positions=(held,),
        cash=Decimal("94.9"),
        cash_source="paper ledger",
        daily_loss_tripped_at=NOW,
    )
    text = daily_report_markdown(report)
    assert "| 2026-11-23 | 1 | 0 | 0.1 | -1.5 | -1.6 | -1.6 |" in text
    assert "Cash: 94.9 pUSD (paper ledger); equity: 98.4 pUSD" in text
    assert "| token 9001 | 10 | 5 | 3.5 | -1.5 | mark 12:00:00 |" in text, "no label: the id"
    named = daily_report_markdown(
        report.model_copy(update={"market_names": {"9001": "Rain? - No"}})
    )
    assert "| Rain? - No | 10 | 5 | 3.5 | -1.5 | mark 12:00:00 |" in named
    assert "Daily-loss breaker: tripped" in text


def test_artifact_rows_name_the_market_and_carry_the_order_request() -> None:
    market = Market(
        condition_id="0xabc",
        market_id="1",
        question="Will it rain in Paris?",
        slug="rain-paris",
        outcomes=(
            Outcome(name="Yes", token_id="1234567890123"),
            Outcome(name="No", token_id="9876543210987"),
        ),
        tick_size=Decimal("0.01"),
        min_order_size=Decimal("5"),
        fees=FeeSchedule.none(),
    )
    labels = MarketLabels([market], [])
    (opp,) = opportunity_rows([_opportunity()], labels)
    assert opp["market"] == "Will it rain in Paris? - Yes"
    assert "Will it rain in Paris? - Yes" in opp["legs"]
    result = OrderResult(
        intent_key="k", order_id="paper-1", status=OrderStatus.MATCHED, filled_size=Decimal("5")
    )
    request = {"k": {"token_id": "1234567890123", "side": "BUY", "size": "5", "price": "0.55"}}
    (order,) = order_rows([result], request, labels)
    assert (order["market"], order["order"], order["filled"]) == (
        "Will it rain in Paris? - Yes",
        "BUY 5 @ 0.55",
        "5",
    )
