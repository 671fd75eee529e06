"""Settlement: how held markets resolved, and redeeming their positions at the payout.

resolutions  read the resolutions of the markets held (Gamma) and store them (market_resolution)
redeem       the settle step: plan a redemption per held token of a resolved market, journal it
             (stored before it is applied), apply it once; paper turns it into cash through the
             ledger (a synthetic SELL fill at the payout); live hands over to ``live``
live         merges and redeems on chain (pm_lib.venue.chain), journalled like orders, booked
             in the ledger the same way once the chain shows them done; reconcile with the wallet
report       a settle run as JSON

The marking of resolved positions at their payout is the one portfolio's
(``pm_lib.portfolio.marks``); this package only reads and writes the store.
"""

from pm_lib.settlement.live import ChainDifference, LiveSettleResult, settle_live
from pm_lib.settlement.redeem import (
    SettleReport,
    plan_settlements,
    settle,
    settlement_fill,
)
from pm_lib.settlement.report import report_json
from pm_lib.settlement.resolutions import held_unresolved, refresh_resolutions

__all__ = [
    "ChainDifference",
    "LiveSettleResult",
    "SettleReport",
    "held_unresolved",
    "plan_settlements",
    "refresh_resolutions",
    "report_json",
    "settle",
    "settle_live",
    "settlement_fill",
]
