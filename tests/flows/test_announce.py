"""The scan's Prefect events (issue 18.4): a fill per filled order, leg risk left open, the
daily-loss breaker once per UTC day. The emitter is replaced by a list (no Prefect API needed);
the DB is a real migrated SQLite file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import flows.alerts
from flows.alerts import BREAKER_TRIPPED, FILLED, LEG_RISK_OPEN
from flows.stages import announce, outcome_name
from pm_lib.models import OrderResult, OrderStatus
from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.report import ScanReport
from pm_lib.reporting.summary import RunSummary
from pm_lib.settings import Settings
from pm_lib.store.engine import make_engine, session_scope, upgrade
from pm_lib.store.leg_risk import record_leg_risk

pytestmark = pytest.mark.slow  # imports the flows (Prefect): a few seconds


@pytest.fixture()
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    events: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(flows.alerts, "emit", lambda e, m, p: events.append((e, m, dict(p))))
    return events


def _ctx(tmp_path: Path) -> RunContext:
    engine = make_engine(f"sqlite:///{tmp_path / 'pm.db'}")
    upgrade(engine)
    return RunContext(settings=Settings(), engine=engine, run_id="r1", flow_name="scan-and-trade")


def _report(*, tripped: bool = False, orders: tuple[OrderResult, ...] = ()) -> ScanReport:
    summary = RunSummary(
        run_id="r1",
        mode="paper",
        markets=10,
        books=20,
        opportunities=1,
        approved=1,
        orders=len(orders),
        filled_orders=sum(1 for o in orders if o.filled_size > 0),
        daily_loss_tripped=tripped,
        pnl_today=Decimal("-51.5"),
    )
    requests = {
        o.intent_key: {"token_id": "t1", "side": "BUY", "size": "10", "price": "0.4"}
        for o in orders
    }
    return ScanReport(summary=summary, orders=orders, intent_orders=requests)


def test_a_filled_order_and_an_open_leg_risk_are_announced(
    tmp_path: Path, sent: list[tuple[str, str, dict[str, Any]]]
) -> None:
    ctx = _ctx(tmp_path)
    filled = OrderResult(
        intent_key="r1:o1:0",
        order_id="paper-1",
        status=OrderStatus.MATCHED,
        filled_size=Decimal("10"),
        avg_price=Decimal("0.4"),
    )
    missed = OrderResult(intent_key="r1:o1:1", order_id="paper-2", status=OrderStatus.CANCELED)
    with session_scope(ctx.engine) as session:
        record_leg_risk(
            session,
            run_id="r1",
            opportunity_id="o1",
            intent_key="r1:o1:0",
            policy="hold",
            detail="held and flagged",
            created_at=ctx.now(),
            status="held",
        )

    announce(ctx, _report(orders=(filled, missed)))

    assert [e for e, _, _ in sent] == [FILLED, LEG_RISK_OPEN]
    assert sent[0][2]["side"] == "BUY" and sent[0][2]["filled"] == "10"
    assert sent[1][2]["status"] == "held"


def test_the_breaker_is_announced_once_a_utc_day(
    tmp_path: Path, sent: list[tuple[str, str, dict[str, Any]]]
) -> None:
    ctx = _ctx(tmp_path)

    announce(ctx, _report(tripped=True))
    announce(ctx, _report(tripped=True))

    assert [e for e, _, _ in sent] == [BREAKER_TRIPPED]
    assert sent[0][2]["pnl_today"] == "-51.5"


def test_run_names_say_what_a_scan_did() -> None:
    assert outcome_name("paper", _report()) == "paper: no trade (1 opportunities, 1 approved)"
    halted = _report().model_copy(
        update={"summary": _report().summary.model_copy(update={"halted": True})}
    )
    assert outcome_name("live", halted) == "live: HALTED, 1 opportunities"
