"""The portfolio state the risk gate reads (``load_portfolio_state`` lives in ``ledger``)."""

from __future__ import annotations

from pm_lib.execution.ledger import load_portfolio_state

__all__ = ["load_portfolio_state"]
