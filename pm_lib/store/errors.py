"""Errors the store raises, named by what the caller should do.

They belong to pm-agent's exception tree (``pm_lib.errors.PmAgentError``) but live with the store,
which alone raises them.

StoreError
├── IntentAlreadyExists     another worker owns this intent key: do not act on it
├── InvalidIntentTransition the status change would move an order backwards: a bug
├── UnknownIntent           no intent with that key: check the key
└── UnknownRun              no run with that id: start_run first
"""

from __future__ import annotations

from pm_lib.errors import PmAgentError

__all__ = [
    "IntentAlreadyExists",
    "InvalidIntentTransition",
    "StoreError",
    "UnknownIntent",
    "UnknownRun",
]


class StoreError(PmAgentError):
    """Base of the store's own errors (database errors pass through unchanged)."""


class IntentAlreadyExists(StoreError):
    """An order intent with this key is already stored: someone else is acting on it."""

    def __init__(self, intent_key: str) -> None:
        super().__init__(f"order intent {intent_key!r} already exists")
        self.intent_key = intent_key


class InvalidIntentTransition(StoreError, ValueError):
    """An order intent cannot move from its stored status to the requested one."""

    def __init__(self, intent_key: str, current: str, requested: str) -> None:
        super().__init__(f"order intent {intent_key!r} cannot go from {current} to {requested}")
        self.intent_key = intent_key
        self.current = current
        self.requested = requested


class UnknownIntent(StoreError, LookupError):
    """No order intent is stored under this key."""

    def __init__(self, intent_key: str) -> None:
        super().__init__(f"no order intent {intent_key!r}")
        self.intent_key = intent_key


class UnknownRun(StoreError, LookupError):
    """No run is stored under this id."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run {run_id!r}")
        self.run_id = run_id
