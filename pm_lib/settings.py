"""One frozen settings model for pm-agent.

Every field reads the environment variable ``PM_<FIELD NAME>`` (and a ``.env`` file in the working
directory). Paper mode is the default; live trading needs ``PM_MODE=live`` *and* an explicit
arming for the run (``--live`` / ``live=True``) *and* credentials (see ``pm_lib.auth``).
Cross-field rules are small named validators, so a contradictory configuration fails at load
time with a message that names the fields.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["STRATEGY_NAMES", "Settings", "get_settings"]

STRATEGY_NAMES = ("complement_arbitrage", "negrisk_arbitrage", "fair_value")

REAL_GAMMA_URL = "https://gamma-api.polymarket.com"
REAL_CLOB_URL = "https://clob.polymarket.com"


class Settings(BaseSettings):
    """pm-agent configuration (environment prefix ``PM_``)."""

    model_config = SettingsConfigDict(
        env_prefix="PM_", env_file=".env", extra="ignore", frozen=True
    )

    # --- mode and venue -------------------------------------------------------------------
    mode: Literal["paper", "live"] = Field(
        default="paper",
        description="PM_MODE: 'paper' (default, simulated fills) or 'live'. Live also needs "
        "arming per run and credentials.",
    )
    gamma_url: str = Field(
        default=REAL_GAMMA_URL, description="PM_GAMMA_URL: Gamma API base URL (catalogue)."
    )
    clob_url: str = Field(
        default=REAL_CLOB_URL, description="PM_CLOB_URL: CLOB API base URL (books, orders)."
    )
    chain_id: int = Field(default=137, description="PM_CHAIN_ID: Polygon chain id for signing.")
    ws_url: str | None = Field(
        default=None,
        description="PM_WS_URL: WebSocket base URL. Default: the venue's ws-subscriptions-clob "
        "host with the live CLOB, else PM_CLOB_URL as ws:// or wss:// (the emulator serves "
        "both on one port).",
    )
    relayer_url: str | None = Field(
        default=None,
        description="PM_RELAYER_URL: Polymarket relayer base URL (gasless merge/redeem for "
        "proxy, Safe and deposit wallets). Default: the live relayer with the live CLOB, "
        "PM_CLOB_URL + /relayer otherwise (the emulator serves it there).",
    )
    rpc_url: str | None = Field(
        default=None,
        description="PM_RPC_URL: Polygon JSON-RPC URL (balances, EOA merge/redeem transactions). "
        "Default: a public Polygon RPC with the live CLOB, PM_CLOB_URL + /rpc otherwise.",
    )
    ws_max_assets: int = Field(
        default=500, ge=1, le=5000, description="PM_WS_MAX_ASSETS: assets per market socket."
    )

    # --- storage --------------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("data"),
        description="PM_DATA_DIR: folder for the default SQLite database; created on demand.",
    )
    database_url: str | None = Field(
        default=None,
        description="PM_DATABASE_URL: SQLAlchemy URL. Default: sqlite:///<data_dir>/pm_agent.db. "
        "Use postgresql+psycopg://... for several workers.",
    )

    # --- catalogue and market data ----------------------------------------------------------
    catalogue_max_age_seconds: int = Field(
        default=900,
        ge=0,
        description="PM_CATALOGUE_MAX_AGE_SECONDS: reuse the stored catalogue while younger.",
    )
    catalogue_full_refresh_seconds: int = Field(
        default=3600,
        ge=0,
        description="PM_CATALOGUE_FULL_REFRESH_SECONDS: list the whole universe again once the "
        "last full listing is this old; in between, a stale catalogue is refreshed "
        "incrementally (only what Gamma changed since). 0: always full.",
    )
    catalogue_incremental_max_pages: int = Field(
        default=20,
        ge=1,
        description="PM_CATALOGUE_INCREMENTAL_MAX_PAGES: an incremental refresh that needs more "
        "market or event pages than this gives up and lists the whole universe instead.",
    )
    gamma_page_size: int = Field(
        default=100, ge=1, le=100, description="PM_GAMMA_PAGE_SIZE: keyset page size (max 100)."
    )
    books_batch_size: int = Field(
        default=500, ge=1, le=500, description="PM_BOOKS_BATCH_SIZE: token ids per POST /books."
    )
    books_rate_limit_per_10s: int = Field(
        default=500,
        ge=1,
        description="PM_BOOKS_RATE_LIMIT_PER_10S: documented POST /books limit (per 10 s).",
    )
    gamma_rate_limit_per_10s: int = Field(
        default=300,
        ge=1,
        description="PM_GAMMA_RATE_LIMIT_PER_10S: documented Gamma /markets limit (per 10 s).",
    )
    clob_rate_limit_per_10s: int = Field(
        default=9000,
        ge=1,
        description="PM_CLOB_RATE_LIMIT_PER_10S: documented general CLOB limit (per 10 s).",
    )
    rate_budget_fraction: Decimal = Field(
        default=Decimal("0.8"),
        gt=0,
        le=1,
        description="PM_RATE_BUDGET_FRACTION: share of each documented limit pm-agent may use.",
    )
    http_concurrency: int = Field(
        default=8, ge=1, le=64, description="PM_HTTP_CONCURRENCY: requests in flight at once."
    )
    http_timeout_seconds: float = Field(
        default=10.0, gt=0, description="PM_HTTP_TIMEOUT_SECONDS: per-request timeout."
    )
    http_max_retries: int = Field(
        default=4,
        ge=0,
        le=10,
        description="PM_HTTP_MAX_RETRIES: retries of a read on 429/5xx/timeouts (never writes).",
    )
    max_book_age_seconds: int = Field(
        default=60,
        ge=1,
        description="PM_MAX_BOOK_AGE_SECONDS: a book older than this is stale and not traded.",
    )

    # --- strategies -------------------------------------------------------------------------
    strategies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("complement_arbitrage", "negrisk_arbitrage"),
        description="PM_STRATEGIES: strategies to run, comma-separated or a JSON list: "
        "complement_arbitrage, "
        "negrisk_arbitrage, fair_value.",
    )
    min_edge: Decimal = Field(
        default=Decimal("0.005"),
        ge=0,
        description="PM_MIN_EDGE: minimum net edge per share (price units, after fees).",
    )
    min_edge_usd: Decimal = Field(
        default=Decimal("0.05"),
        ge=0,
        description="PM_MIN_EDGE_USD: minimum expected net profit of one opportunity in pUSD.",
    )
    fair_value_file: Path | None = Field(
        default=None,
        description="PM_FAIR_VALUE_FILE: CSV or JSON of token id or slug -> probability.",
    )
    fair_value_variable: str | None = Field(
        default=None,
        description="PM_FAIR_VALUE_VARIABLE: Prefect Variable holding the same mapping as JSON.",
    )
    fair_value_edge: Decimal = Field(
        default=Decimal("0.03"),
        ge=0,
        lt=1,
        description="PM_FAIR_VALUE_EDGE: required distance between price and fair value.",
    )
    kelly_fraction: Decimal = Field(
        default=Decimal("0.25"),
        gt=0,
        le=1,
        description="PM_KELLY_FRACTION: fraction of the Kelly stake the fair-value strategy bets.",
    )

    # --- risk limits (pUSD unless said) ------------------------------------------------------
    max_order_notional: Decimal = Field(
        default=Decimal("100"), gt=0, description="PM_MAX_ORDER_NOTIONAL: per order."
    )
    max_position_per_market: Decimal = Field(
        default=Decimal("250"),
        gt=0,
        description="PM_MAX_POSITION_PER_MARKET: cost basis held in one market.",
    )
    max_position_per_group: Decimal = Field(
        default=Decimal("500"),
        gt=0,
        description="PM_MAX_POSITION_PER_GROUP: cost basis held in one neg-risk group.",
    )
    max_total_exposure: Decimal = Field(
        default=Decimal("2000"),
        gt=0,
        description="PM_MAX_TOTAL_EXPOSURE: cost basis of all positions plus open orders.",
    )
    max_open_orders: int = Field(
        default=50, ge=0, description="PM_MAX_OPEN_ORDERS: resting orders at once."
    )
    max_daily_loss: Decimal = Field(
        default=Decimal("100"),
        gt=0,
        description=(
            "PM_MAX_DAILY_LOSS: UTC-day loss (realised - fees + unrealised at executable bids) "
            "that trips the daily-loss breaker: no buying until the UTC day ends."
        ),
    )
    slippage_edge_fraction: Decimal = Field(
        default=Decimal("0.5"),
        ge=0,
        le=1,
        description="PM_SLIPPAGE_EDGE_FRACTION: reject when VWAP is worse than the limit by more "
        "than this fraction of the edge.",
    )
    market_end_buffer_minutes: int = Field(
        default=30,
        ge=0,
        description="PM_MARKET_END_BUFFER_MINUTES: no new trades this close to a market's end.",
    )

    # --- execution --------------------------------------------------------------------------
    paper_balance: Decimal = Field(
        default=Decimal("1000"),
        ge=0,
        description="PM_PAPER_BALANCE: starting pUSD of the paper account.",
    )
    settle_confirm_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="PM_SETTLE_CONFIRM_SECONDS: how long a live settle looks up a merge or "
        "redeem it sent (once a second) before leaving it open for the next run.",
    )
    unwind_policy: Literal["sell_back", "hold"] = Field(
        default="sell_back",
        description="PM_UNWIND_POLICY: when one leg of an arbitrage fails after another filled: "
        "sell the filled leg back at the bid ('sell_back') or keep it and flag it ('hold').",
    )
    basket_posting: Literal["sequential", "batch"] = Field(
        default="sequential",
        description="PM_BASKET_POSTING: how a basket's legs are sent: one POST /order after "
        "another, a failed leg stopping the rest ('sequential'), or all in one POST /orders "
        "(up to 15 a batch), every leg stored and signed first ('batch': faster, but a leg "
        "failing no longer stops the others, so leg risk is more likely).",
    )
    unwind_max_loss: Decimal = Field(
        default=Decimal("5"),
        ge=0,
        description="PM_UNWIND_MAX_LOSS: the most pUSD a sell-back unwind may lose.",
    )
    heartbeat_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        le=9,
        description="PM_HEARTBEAT_INTERVAL_SECONDS: live heartbeats while orders rest "
        "(the venue cancels everything after 10 s without one).",
    )
    heartbeat_timeout_seconds: float = Field(
        default=2.5,
        gt=0,
        le=4,
        description="PM_HEARTBEAT_TIMEOUT_SECONDS: timeout of one heartbeat request, well under "
        "the venue's 10 s window (a hung beat is cut and the next one sent).",
    )
    delayed_order_wait_seconds: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="PM_DELAYED_ORDER_WAIT_SECONDS: how long a marketable order the venue "
        "answered 'delayed' (sports ~1 s, some crypto up/down ~0.25 s) is awaited before its "
        "outcome counts as unknown for reconcile to settle.",
    )

    @field_validator("strategies", mode="before")
    @classmethod
    def _split_strategies(cls, value: object) -> object:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return tuple(json.loads(value))
            return tuple(s.strip() for s in value.split(",") if s.strip())
        return value

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in STRATEGY_NAMES]
        if unknown:
            raise ValueError(f"unknown strategies {unknown}; choose from {list(STRATEGY_NAMES)}")
        return value

    @model_validator(mode="after")
    def _heartbeat_times_out_before_the_next_one(self) -> Settings:
        if self.heartbeat_timeout_seconds >= self.heartbeat_interval_seconds:
            raise ValueError(
                "PM_HEARTBEAT_TIMEOUT_SECONDS must be below PM_HEARTBEAT_INTERVAL_SECONDS: a hung "
                "heartbeat would delay the next one"
            )
        return self

    @model_validator(mode="after")
    def _order_fits_in_position_limits(self) -> Settings:
        if self.max_order_notional > self.max_position_per_market:
            raise ValueError(
                "PM_MAX_ORDER_NOTIONAL exceeds PM_MAX_POSITION_PER_MARKET: no order could pass"
            )
        return self

    @model_validator(mode="after")
    def _market_fits_in_group_and_total(self) -> Settings:
        if self.max_position_per_market > self.max_position_per_group:
            raise ValueError("PM_MAX_POSITION_PER_MARKET exceeds PM_MAX_POSITION_PER_GROUP")
        if self.max_position_per_group > self.max_total_exposure:
            raise ValueError("PM_MAX_POSITION_PER_GROUP exceeds PM_MAX_TOTAL_EXPOSURE")
        return self

    @model_validator(mode="after")
    def _order_limit_allows_a_marketable_order(self) -> Settings:
        if self.max_order_notional < 1:
            raise ValueError(
                "PM_MAX_ORDER_NOTIONAL is under the venue's $1 minimum for marketable orders: "
                "no arbitrage leg could pass"
            )
        return self

    @model_validator(mode="after")
    def _fair_value_edge_clears_min_edge(self) -> Settings:
        if "fair_value" in self.strategies and self.fair_value_edge < self.min_edge:
            raise ValueError(
                "PM_FAIR_VALUE_EDGE is below PM_MIN_EDGE: the risk gate would reject every "
                "fair-value trade it proposes"
            )
        return self

    @model_validator(mode="after")
    def _full_refresh_not_sooner_than_max_age(self) -> Settings:
        if 0 < self.catalogue_full_refresh_seconds < self.catalogue_max_age_seconds:
            raise ValueError(
                "PM_CATALOGUE_FULL_REFRESH_SECONDS is below PM_CATALOGUE_MAX_AGE_SECONDS: the "
                "catalogue is only refreshed once it is older than the max age (use 0 for "
                "always full)"
            )
        return self

    @model_validator(mode="after")
    def _fair_value_has_a_source(self) -> Settings:
        if "fair_value" in self.strategies and not (
            self.fair_value_file or self.fair_value_variable
        ):
            raise ValueError(
                "strategy fair_value needs PM_FAIR_VALUE_FILE or PM_FAIR_VALUE_VARIABLE"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in ``data_dir`` (created on demand)."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'pm_agent.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings(...)`` instead)."""
    return Settings()
