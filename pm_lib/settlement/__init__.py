"""Settlement: how held markets resolved, and redeeming their positions at the payout.

resolutions  read the resolutions of the markets held (Gamma) and store them (market_resolution)
redeem       the settle step: plan a redemption per held token of a resolved market, journal it
             (stored before it is applied), apply it once; paper turns it into cash through the
             ledger (a synthetic SELL fill at the payout), live refuses (no chain side yet)
report       a settle run as JSON

The marking of resolved positions at their payout is the one portfolio's
(``pm_lib.portfolio.marks``); this package only reads and writes the store.
"""

from pm_lib.settlement.redeem import (
    LIVE_REFUSAL,
    SettleReport,
    plan_settlements,
    settle,
    settlement_fill,
)
from pm_lib.settlement.report import report_json
from pm_lib.settlement.resolutions import held_unresolved, refresh_resolutions

__all__ = [
    "LIVE_REFUSAL",
    "SettleReport",
    "held_unresolved",
    "plan_settlements",
    "refresh_resolutions",
    "report_json",
    "settle",
    "settlement_fill",
]
