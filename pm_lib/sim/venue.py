"""The emulated venue: state, configuration and the exchange (accounts, orders, trades).

``SimVenue`` is what the HTTP layer (``pm_lib.sim.app``) serves. Market data (universe, Gamma,
public CLOB routes, rate limits, faults) lives in the market-data modules; accounts, auth,
matching and the order lifecycle live in ``pm_lib.sim.exchange`` and friends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pm_lib.sim.chain_tx import Chain
from pm_lib.sim.exchange import Exchange
from pm_lib.sim.faults import FaultPlan
from pm_lib.sim.lifecycle import TRADE_CONFIRMED, TRADE_FAILED, TRADE_MINED
from pm_lib.sim.limits import RateLimiter, RequestStats
from pm_lib.sim.market_admin import modify_market
from pm_lib.sim.market_data import MarketData
from pm_lib.sim.relayer import Relayer
from pm_lib.sim.signing import exchange_for
from pm_lib.sim.state import SimMarket, VenueState

__all__ = ["SimConfig", "SimVenue"]


@dataclass
class SimConfig:
    """Emulator options (the CLI flags of ``pm-agent venue serve`` map onto these)."""

    seed: int = 7
    markets: int = 200
    universe_file: str | None = None
    autofund: bool = True
    autofund_pusd: Decimal = Decimal(10_000)
    ghost_fill_rate: float = 0.0  # share of trades that end FAILED (reverted on chain)
    mined_after_seconds: float = 1.0  # venue-clock seconds from MATCHED to MINED
    confirmed_after_seconds: float = 3.0  # venue-clock seconds from MATCHED to CONFIRMED
    heartbeat_timeout_seconds: float = 10.0
    # Share of filled FOK/FAK orders whose GET /data/order/{id} answers as if unknown, and how:
    # "404" (``{"error": "Order not found"}``) or "empty" (a 200 with an empty body).
    filled_lookup_miss_rate: float = 0.0
    filled_lookup_miss_answer: str = "404"
    enforce_rate_limits: bool = True
    chain_id: int = 137
    extra: dict[str, object] = field(default_factory=dict)
    # Exchange side (pm_lib.sim.exchange): auth, order rules, paging, wallets.
    auth_window_seconds: float = 300.0  # max |POLY_TIMESTAMP - venue clock| for L1/L2 auth
    funder_wallets: dict[str, str] = field(default_factory=dict)  # signer EOA -> maker wallet
    gtd_min_lead_seconds: float = 60.0  # GTD expiration must be at least now + this
    gtd_security_threshold_seconds: float = 60.0  # GTD orders expire this long before expiration
    marketable_min_notional: Decimal = Decimal(1)  # $ floor of FOK/FAK executions
    data_page_limit: int = 100  # rows per /data/orders and /data/trades page
    # Chain side (pm_lib.sim.chain_tx, relayer): see docs/EMULATOR.md "Chain side".
    chain_mine_after_seconds: float = 0.0  # venue-clock seconds from admission to a block
    relayer_confirm_after_seconds: float = 0.0  # from STATE_MINED to STATE_CONFIRMED
    # Market-data side (pm_lib.sim.market_data, evolution, limits, faults): see docs/EMULATOR.md.
    universe_anchor: float | None = None  # unix s the universe's dates are relative to
    book_epoch_seconds: float = 30.0  # background books move once per epoch; 0 = never
    book_volatility: float = 0.08  # size of a move (logit of the mid, per epoch)
    negrisk_dip_rate: float = 0.02  # share of (group, epoch) with a real basket arbitrage
    negrisk_near_miss_rate: float = 0.05  # share with a dip erased by fees or depth
    dip_window_seconds: float = 10.0  # how long a dip lasts after the epoch's move
    incomplete_event_rate: float = 0.0  # share of neg-risk events listing one leg too few
    max_books_in_memory: int = 4096  # untouched background-only ladders kept built
    max_cached_books: int = 120_000  # serialised token books kept (also after eviction)
    rate_limit_overrides: dict[str, int] = field(default_factory=dict)  # limit name -> max
    # WebSocket channels (pm_lib.sim.ws_market, ws_user): see docs/EMULATOR.md.
    ws_max_assets: int = 500  # assets one market-channel connection may hold
    ws_idle_seconds: float = 10.0  # a connection that sends nothing this long is closed
    ws_interval_seconds: float = 0.01  # how often the channels publish what changed


class SimVenue:
    """One emulated Polymarket: the state every route reads and the exchange that mutates it."""

    def __init__(self, config: SimConfig | None = None, state: VenueState | None = None) -> None:
        self.config = config or SimConfig()
        generate = state is None  # a caller's own state keeps its markets and static books
        self.state = state or VenueState()
        self.market_data = MarketData(self.state, self.config, generate=generate)
        self.limiter = RateLimiter(
            self.config.rate_limit_overrides, enabled=self.config.enforce_rate_limits
        )
        self.stats = RequestStats()
        self.faults = FaultPlan(self.config.seed)
        self.exchange = Exchange(self.state, self.config)
        self.exchange.change_tick = self._change_tick
        self.chain = Chain(
            self.state,
            self.exchange.accounts,
            self.config.chain_id,
            lambda: self.config.chain_mine_after_seconds,
        )
        self.chain.trade_lookup = self._trade_on_chain
        self.relayer = Relayer(
            self.chain, lambda: self.config.seed, lambda: self.config.relayer_confirm_after_seconds
        )

    def _trade_on_chain(self, tx_hash: str) -> tuple[int, str] | None:
        """(receipt status, exchange) of the CLOB trade settled by ``tx_hash``, once mined."""
        self.exchange.advance()
        for trade in self.exchange.trades.values():
            if trade.transaction_hash.lower() != tx_hash:
                continue
            if trade.status in (TRADE_MINED, TRADE_CONFIRMED):
                status = 1
            elif trade.status == TRADE_FAILED:
                status = 0
            else:
                return None
            market = self.state.markets.get(trade.market)
            return status, exchange_for(bool(market and market.neg_risk))
        return None

    def _change_tick(self, market: SimMarket, tick: Decimal) -> None:
        """Change a market's tick as ``PATCH /_sim/markets`` does (Gamma, books, caches)."""
        modify_market(self.market_data, market.condition_id, {"tick_size": str(tick)})
