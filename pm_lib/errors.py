"""pm-agent's exception tree, named by what the caller must do.

    PmAgentError
    ├── ConfigurationError          fix the settings or credentials; nothing was sent
    ├── BadVenueData                skip this item, log the reason, carry on with the rest
    ├── FullListingNeeded           an incremental listing cannot be trusted: list everything
    └── VenueError                  the venue (or the way to it) failed
        ├── RetryableError          a read may be retried with backoff (5xx, timeouts, 425)
        │   └── RateLimited         slow down; ``retry_after`` seconds if the venue said so
        ├── RejectedByVenue         the venue refused the request; do not resend it unchanged
        │   └── InsufficientFunds   not enough pUSD balance or allowance
        └── OutcomeUnknown          a write may or may not have happened: look it up, never resend
    StoreError (pm_lib.store.errors) the store's own invariants (intent exists, bad transition...)

The tree lives here, outside any package, so strategy, auth, settings and flows can name an error
without importing the venue adapter. The store's errors stay with the store (they describe its
invariants and are raised only there) but derive from ``PmAgentError``, so "every error pm-agent
raises on purpose" is one base class.

SDK (``polymarket.errors``) and httpx errors are mapped to these at the adapter with
``raise ... from e``; nothing above ``pm_lib.venue`` sees an httpx or SDK exception.
"""

from __future__ import annotations

__all__ = [
    "BadVenueData",
    "ConfigurationError",
    "FullListingNeeded",
    "InsufficientFunds",
    "OutcomeUnknown",
    "PmAgentError",
    "RateLimited",
    "RejectedByVenue",
    "RetryableError",
    "VenueError",
]


class PmAgentError(Exception):
    """Base of every error pm-agent raises on purpose."""


class ConfigurationError(PmAgentError):
    """Settings or credentials are missing or contradictory. Nothing was sent."""


class BadVenueData(PmAgentError):
    """A venue payload failed validation. Skip the item it describes; the rest carries on."""

    def __init__(self, kind: str, ident: str, reason: str) -> None:
        super().__init__(f"bad {kind} {ident!r}: {reason}")
        self.kind = kind
        self.ident = ident
        self.reason = reason


class FullListingNeeded(PmAgentError):
    """An incremental catalogue listing would be too long, or its answers are not in the order
    it relies on. Nothing was saved; refresh the catalogue with a full listing instead."""


class VenueError(PmAgentError):
    """The venue, or the network path to it, failed."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RetryableError(VenueError):
    """Transient: a read may be retried with backoff and jitter. Writes are never retried."""


class RateLimited(RetryableError):
    """HTTP 429. ``retry_after`` is the venue's Retry-After in seconds, when it gave one."""

    def __init__(
        self, message: str, *, status_code: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class RejectedByVenue(VenueError):
    """The venue answered and refused. Resending the same request will fail the same way."""


class InsufficientFunds(RejectedByVenue):
    """Not enough pUSD balance or allowance (or shares, for a sell)."""


class OutcomeUnknown(VenueError):
    """A write's outcome is ambiguous (timeout, dropped connection, 5xx after sending).

    The caller must mark the order UNKNOWN and resolve it by looking up its hash. Re-signing or
    re-posting could place it twice.
    """
