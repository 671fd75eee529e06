"""Reporting renders exact decimal strings and readable summaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pm_lib.models import Leg, Opportunity, OrderResult, OrderStatus, RiskDecision, Side
from pm_lib.reporting.summary import (
    DailyPnl,
    RunSummary,
    daily_report_markdown,
    pnl_bar_chart,
    summary_markdown,
)
from pm_lib.reporting.tables import decision_rows, money, opportunity_rows, order_rows

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
    assert money(Decimal("1E-7")) == "0"
    assert money(Decimal("0.1234567")) == "0.123457"
    assert money(Decimal("1200.50")) == "1200.5"
    assert money(Decimal("5"), 2) == "5"
    assert money(None) == ""


def test_opportunity_rows_show_legs_and_net_edge() -> None:
    (row,) = opportunity_rows([_opportunity()])
    assert row["edge_pusd"] == "0.123457"
    assert row["legs"] == "BUY 20 67890123 <= 0.55 (vwap 0.65)"


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
        "opportunity_id": "opp-1",
        "strategy": "complement_arbitrage",
        "approved": "no",
        "rule": "slippage",
        "reason": "VWAP 0.65 is 0.10 over the limit",
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
    assert row["status"] == "MATCHED" and row["filled"] == "5" and row["fee_pusd"] == "0.05"


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
    days = [
        DailyPnl(day=date(2026, 11, 21), realised=Decimal("2"), fees=Decimal("0.5")),
        DailyPnl(day=date(2026, 11, 22), realised=Decimal("-1"), fees=Decimal("0.5")),
    ]
    text = daily_report_markdown(days, mode="paper", positions=3)
    assert "| 2026-11-22 | 0 | -1 | 0.5 | 0 | -1.5 | 0 |" in text
    chart = pnl_bar_chart(days)
    assert "🟩" in chart and "🟥" in chart
