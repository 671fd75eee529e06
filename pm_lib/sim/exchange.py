"""The trading side of the emulated venue: place orders, match, settle, cancel, progress.

``Exchange`` owns accounts, order and trade records and heartbeat chains; the ladders it
matches on belong to ``VenueState`` and are shared with the market-data side (which adds and
evolves ``owner=None`` liquidity). Every public method takes the venue lock and first brings
the lifecycle up to the venue clock (trade settlement, heartbeat and GTD expiries), so no
background thread is needed.

Placing an order runs the live venue's checks in order (owner, market, signature, signer vs API
key, duplicate, tick, time in force, size), plans the match without touching the book, checks
FOK/FAK/post-only, the $1 marketable floor and balance/allowance net of open-order
reservations, then applies fills, settles balances and rests any GTC/GTD remainder.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pm_lib.book_math import taker_fee
from pm_lib.models import FeeSchedule
from pm_lib.sim.accounts import COLLATERAL, Accounts, ApiKey
from pm_lib.sim.chain_wallets import wallet_of
from pm_lib.sim.lifecycle import (
    ORDER_CANCELED,
    ORDER_CANCELED_RESOLVED,
    ORDER_DELAYED,
    ORDER_LIVE,
    ORDER_MATCHED,
    TERMINAL_TRADE,
    TRADE_FAILED,
    HeartbeatBook,
    OrderRecord,
    TradeRecord,
    due_trade_status,
)
from pm_lib.sim.matching import PlannedFill, apply_fills, plan_match, remove_resting
from pm_lib.sim.order_rules import (
    NOT_ENOUGH_BALANCE,
    CodedRejection,
    OrderTerms,
    check_amount_precision,
    check_fill_outcome,
    check_marketable_notional,
    check_min_size,
    check_time_in_force,
    order_terms,
)
from pm_lib.sim.settlement import (
    Execution,
    delayed_response,
    post_response,
    settle,
    to_micro,
)
from pm_lib.sim.signing import (
    OrderPayload,
    OrderRejected,
    exchange_for,
    order_hash,
    verify_order_signature,
)
from pm_lib.sim.state import Ladder, RestingOrder, SimMarket, VenueState, yes_terms
from pm_lib.sim.wire_out import token_top

if TYPE_CHECKING:
    from pm_lib.sim.venue import SimConfig

__all__ = [
    "FINE_TICK",
    "POST_ONLY_MODE",
    "RESTARTING",
    "TICK_CHANGE_HIGH",
    "TICK_CHANGE_LOW",
    "Exchange",
]

FINE_TICK = Decimal("0.001")
TICK_CHANGE_HIGH = Decimal("0.96")  # past these (YES terms) the venue moves a market to 0.001
TICK_CHANGE_LOW = Decimal("0.04")

RESTARTING = "Too Early: the matching engine is restarting"
POST_ONLY_MODE = (
    "the exchange is in post-only mode after a restart: only post-only orders and cancels are "
    "accepted"
)


@dataclass(frozen=True)
class _Taker:
    """An order on its way to the book: what matching it needs besides the fills."""

    record: OrderRecord
    market: SimMarket
    is_yes: bool
    terms: OrderTerms
    post_only: bool
    exchange: str  # the spender whose allowances the transfers use


class Exchange:
    """The trading side of the venue."""

    def __init__(self, state: VenueState, config: SimConfig) -> None:
        self.state = state
        self.config = config
        self.accounts = Accounts(config.seed, config.autofund, config.autofund_pusd)
        self.orders: dict[str, OrderRecord] = {}
        self.open_orders: dict[str, OrderRecord] = {}
        self.trades: dict[str, TradeRecord] = {}
        self.pending_trades: dict[str, TradeRecord] = {}
        self.heartbeats = HeartbeatBook()
        self.rng = random.Random(config.seed)
        # Set by SimVenue: changes a market's tick as the control API does (listings, caches).
        self.change_tick: Callable[[SimMarket, Decimal], None] | None = None
        self.ghost_targets: dict[str, int] = {}  # token id -> next trades that will revert
        self.delayed: dict[str, tuple[_Taker, float]] = {}  # held in a taker delay, until
        self.restart_until = 0.0  # venue clock: the matching engine restarts until then (425)
        self.post_only_until = 0.0  # then only post-only orders and cancels (503) until this

    def reset(self) -> None:
        """Forget orders, trades, heartbeats and wallets (``POST /_sim/reset``); API keys stay,
        so clients keep working, and wallets are funded afresh on next sight."""
        with self.state.lock:
            self.orders.clear()
            self.open_orders.clear()
            self.trades.clear()
            self.pending_trades.clear()
            self.heartbeats = HeartbeatBook()
            self.ghost_targets.clear()
            self.delayed.clear()
            self.restart_until = self.post_only_until = 0.0
            self.accounts.wallets.clear()
            self.accounts.autofund = self.config.autofund
            self.accounts.autofund_pusd = self.config.autofund_pusd
            self.rng = random.Random(self.config.seed)

    def now(self) -> float:
        """The venue clock, unix seconds."""
        return self.state.clock.now()

    def funder_wallets(self) -> dict[str, str]:
        """Configured signer EOA -> maker wallet, lower-cased."""
        return {k.lower(): v.lower() for k, v in self.config.funder_wallets.items()}

    def funding_address(self, address: str, signature_type: int) -> str:
        """The wallet that holds funds for ``address`` trading with ``signature_type``."""
        if signature_type == 0:
            return address
        for eoa, wallet in self.config.funder_wallets.items():
            if eoa.lower() == address.lower():
                return wallet
        return wallet_of(address, signature_type) or address

    # -- lifecycle ---------------------------------------------------------------------------

    def advance(self) -> None:
        """Bring trades, heartbeats and GTD expiries up to the venue clock."""
        with self.state.lock:
            now = self.now()
            cfg = self.config
            self._release_delayed(now)
            for trade in list(self.pending_trades.values()):
                due = due_trade_status(
                    trade, now, cfg.mined_after_seconds, cfg.confirmed_after_seconds
                )
                if due != trade.status:
                    self.set_trade_status(trade, due, now)
            for user in self.heartbeats.expired(now, cfg.heartbeat_timeout_seconds):
                for record in [r for r in self.open_orders.values() if r.user == user]:
                    self._cancel_record(record)
            for record in [r for r in self.open_orders.values() if r.expiration]:
                # The venue expires a GTD order one minute before its stated expiration.
                cutoff = record.expiration - cfg.gtd_security_threshold_seconds
                if now >= cutoff and record.order_type == "GTD":
                    self._cancel_record(record)

    def set_trade_status(self, trade: TradeRecord, status: str, now: float) -> None:
        """Move ``trade`` to ``status``; FAILED undoes its balance effects once."""
        trade.status = status
        trade.last_update = now
        if status == TRADE_FAILED and not trade.reverted:
            trade.reverted = True
            for entry in trade.ledger:
                self.accounts.wallet(entry.address).credit(entry.asset, -entry.units)
        if status in TERMINAL_TRADE:
            self.pending_trades.pop(trade.trade_id, None)
        else:
            self.pending_trades[trade.trade_id] = trade

    def force_trade_status(self, trade_id: str, status: str) -> TradeRecord | None:
        """Set a trade's status by hand (control API); the clock no longer moves it after."""
        with self.state.lock:
            trade = self.trades.get(trade_id)
            if trade is not None:
                trade.forced = True
                self.set_trade_status(trade, status, self.now())
            return trade

    # -- placement ---------------------------------------------------------------------------

    def place_order(self, key: ApiKey, payload: OrderPayload) -> dict[str, Any]:
        """Validate, match and book one order; return the live POST /order response."""
        with self.state.lock:
            self.advance()
            return self._place(key, payload)

    def restart_engine(self, restart_seconds: float, post_only_seconds: float) -> None:
        """Start a matching-engine restart now (control API): every order and cancel answers
        425 for ``restart_seconds``, then only post-only orders and cancels are taken (others
        503 ``post_only_mode``) for ``post_only_seconds``. Books and resting orders persist."""
        with self.state.lock:
            now = self.now()
            self.restart_until = now + restart_seconds
            self.post_only_until = self.restart_until + post_only_seconds

    def check_engine(self, *, post_only: bool, cancel: bool = False) -> None:
        """Refuse what the matching engine does not take now (a restart, the post-only window)."""
        now = self.now()
        if now < self.restart_until:
            raise CodedRejection(
                RESTARTING, "MATCHING_ENGINE_RESTARTING", 425, math.ceil(self.restart_until - now)
            )
        if not (post_only or cancel) and now < self.post_only_until:
            left = math.ceil(self.post_only_until - now)
            raise CodedRejection(POST_ONLY_MODE, "post_only_mode", 503, left)

    def _place(self, key: ApiKey, payload: OrderPayload) -> dict[str, Any]:
        order = payload.order
        self.check_engine(post_only=payload.post_only)
        if payload.owner != key.api_key:
            raise OrderRejected("the order owner has to be the owner of the API KEY")
        found = self.state.market_for_token(order.token_id)
        if found is None:
            raise OrderRejected("Invalid token id")
        market, is_yes = found
        if market.closed or not market.accepting_orders or not market.active:
            raise CodedRejection("market is not accepting orders", "MARKET_NOT_READY")
        exchange = exchange_for(market.neg_risk)
        order_id = order_hash(order, exchange, self.config.chain_id)
        controller = verify_order_signature(
            order, exchange, self.config.chain_id, self.funder_wallets()
        )
        if controller.lower() != key.address.lower():
            raise OrderRejected("the order signer address has to be the address of the API KEY")
        if order_id in self.orders:
            raise CodedRejection(
                f"order {order_id} is invalid. Duplicated.", "INVALID_ORDER_DUPLICATED"
            )
        terms = order_terms(order_id, order, market.tick_size)
        now = self.now()
        check_time_in_force(
            order_id,
            payload.order_type,
            payload.post_only,
            order.expiration,
            now,
            self.config.gtd_min_lead_seconds,
        )
        check_min_size(order_id, payload.order_type, terms.size, market.min_order_size)
        check_amount_precision(order, payload.order_type, market.tick_size)

        ladder = self.state.ladders[market.condition_id]
        yes_side, yes_limit = yes_terms(is_yes, order.side, terms.limit)
        fills = plan_match(ladder, yes_side, yes_limit, terms.size)
        record = OrderRecord(
            order_id=order_id,
            user=key.address.lower(),
            owner=key.api_key,
            maker_address=order.maker,
            market=market.condition_id,
            asset_id=order.token_id,
            side=order.side,
            price=terms.tick_price,
            original_size=terms.size,
            outcome=market.outcomes[0 if is_yes else 1],
            order_type=payload.order_type,
            expiration=order.expiration,
            created_at=now,
            neg_risk=market.neg_risk,
        )
        taker = _Taker(record, market, is_yes, terms, payload.post_only, exchange)
        if fills and market.taker_delay_seconds > 0 and not payload.post_only:
            # A marketable order on a taker-delay market is held, then matched (or killed).
            self._check_funds(order.maker, order.token_id, exchange, Decimal(0), terms, terms.size)
            record.status = ORDER_DELAYED
            self.orders[order_id] = record
            self.delayed[order_id] = (taker, now + market.taker_delay_seconds)
            return delayed_response(record)
        trade = self._execute(taker, fills, now)
        return post_response(record, trade)

    def _release_delayed(self, now: float) -> None:
        """Match the held marketable orders whose delay is over, oldest first; one that can no
        longer trade as its type requires (FOK not fillable, no funds) is killed."""
        due = sorted(
            ((at, oid) for oid, (_, at) in self.delayed.items() if at <= now), key=lambda d: d
        )
        for _, order_id in due:
            taker, _ = self.delayed.pop(order_id)
            record = taker.record
            record.status = ORDER_LIVE
            ladder = self.state.ladders[taker.market.condition_id]
            yes_side, yes_limit = yes_terms(taker.is_yes, record.side, taker.terms.limit)
            fills = plan_match(ladder, yes_side, yes_limit, taker.terms.size)
            try:
                self._execute(taker, fills, now)
            except OrderRejected:
                record.status = ORDER_CANCELED

    def _execute(self, taker: _Taker, fills: list[PlannedFill], now: float) -> TradeRecord | None:
        """Check ``fills`` against the order's type and funds, settle them and rest the rest
        (a GTC/GTD remainder); raises the venue's rejection when the order cannot trade."""
        record, market, is_yes, terms = taker.record, taker.market, taker.is_yes, taker.terms
        order_type = record.order_type
        filled = sum((f.size for f in fills), Decimal(0))
        check_fill_outcome(order_type, terms.size, filled, taker.post_only)

        def own_price(fill: PlannedFill) -> Decimal:
            return fill.yes_price if is_yes else 1 - fill.yes_price

        notional = sum((f.size * own_price(f) for f in fills), Decimal(0))
        check_marketable_notional(
            order_type, record.side, notional, self.config.marketable_min_notional
        )
        fees = FeeSchedule(rate=market.fee_rate, exponent=market.fee_exponent)
        fee = sum(
            (taker_fee(f.size, own_price(f), fees if market.fees_enabled else None) for f in fills),
            Decimal(0),
        )
        rests = order_type in ("GTC", "GTD") and filled < terms.size
        rest_size = terms.size - filled if rests else Decimal(0)
        self._check_funds(
            record.maker_address, record.asset_id, taker.exchange, notional + fee, terms, rest_size
        )
        self.orders[record.order_id] = record
        ladder = self.state.ladders[market.condition_id]
        trade = None
        if fills:
            ghost = self.rng.random() < self.config.ghost_fill_rate
            ghost = self._take_ghost_target(record.asset_id) or ghost
            execution = Execution(record, market, is_yes, fills, fee, taker.exchange, now, ghost)
            trade = settle(execution, self.accounts, self.orders, self.open_orders)
            apply_fills(ladder, fills)
            self.trades[trade.trade_id] = trade
            self.pending_trades[trade.trade_id] = trade
        if rests:
            rest_side, rest_price = yes_terms(is_yes, record.side, terms.tick_price)
            record.resting = RestingOrder(
                order_id=record.order_id,
                yes_side=rest_side,
                yes_price=rest_price,
                remaining=rest_size,
                owner=record.owner,
                token_id=record.asset_id,
                side=record.side,
                price=terms.tick_price,
                created_at=now,
            )
            ladder.add(record.resting)
            self.open_orders[record.order_id] = record
        else:
            record.status = ORDER_MATCHED
        self._follow_tick(market, ladder)
        return trade

    def target_ghost_fills(self, token_id: str, count: int) -> None:
        """Make the next ``count`` trades taken on ``token_id`` ghost fills (control API)."""
        with self.state.lock:
            if count > 0:
                self.ghost_targets[token_id] = count
            else:
                self.ghost_targets.pop(token_id, None)

    def _take_ghost_target(self, token_id: str) -> bool:
        left = self.ghost_targets.get(token_id, 0)
        if left <= 0:
            return False
        if left == 1:
            del self.ghost_targets[token_id]
        else:
            self.ghost_targets[token_id] = left - 1
        return True

    def _follow_tick(self, market: SimMarket, ladder: Ladder) -> None:
        """Move the market to tick 0.001 once its price passes 0.96 or drops under 0.04.

        The live venue does this and announces ``tick_size_change`` (docs/VENUE.md 4.3); "price"
        is read here as the YES last trade or best quote. The change back is not emulated.
        """
        if market.tick_size <= FINE_TICK or self.change_tick is None:
            return
        top = token_top(ladder, True)
        prices = [p for p in (ladder.last_trade_price, top.bid, top.ask) if p is not None]
        if any(p > TICK_CHANGE_HIGH or p < TICK_CHANGE_LOW for p in prices):
            self.change_tick(market, FINE_TICK)

    def _reserved(self, wallet: str, asset: str) -> int:
        """Units of ``asset`` that ``wallet``'s open orders hold back."""
        total = 0
        for r in self.open_orders.values():
            if r.maker_address.lower() != wallet.lower():
                continue
            if asset == COLLATERAL and r.side == "BUY":
                total += to_micro(r.remaining * r.price)
            elif r.side == "SELL" and r.asset_id == asset:
                total += to_micro(r.remaining)
        return total

    def _check_funds(
        self,
        maker: str,
        token_id: str,
        exchange: str,
        spend: Decimal,
        terms: OrderTerms,
        rest_size: Decimal,
    ) -> None:
        """Refuse an order its wallet cannot cover net of open-order reservations."""
        wallet = self.accounts.wallet(maker)
        if terms.side == "BUY":
            asset, need = COLLATERAL, to_micro(spend) + to_micro(rest_size * terms.tick_price)
        else:
            asset, need = token_id, to_micro(terms.size)
        available = wallet.balance_of(asset) - self._reserved(maker, asset)
        if need > available or need > wallet.allowance_for(asset, exchange):
            raise CodedRejection(NOT_ENOUGH_BALANCE, "INVALID_ORDER_NOT_ENOUGH_BALANCE")

    def lookup_misses(self, record: OrderRecord) -> bool:
        """Whether GET /data/order answers "not found" for ``record`` although it exists.

        The live venue does so for some fully filled FOK/FAK orders (docs/VENUE.md 2.4); a share
        ``filled_lookup_miss_rate`` of them, chosen by a hash of the seed and order id, so the
        same order always answers the same way.
        """
        rate = self.config.filled_lookup_miss_rate
        if rate <= 0 or record.status != ORDER_MATCHED or record.order_type not in ("FOK", "FAK"):
            return False
        digest = hashlib.sha256(f"{self.config.seed}:{record.order_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < rate

    # -- heartbeats -------------------------------------------------------------------------

    def heartbeat(self, user: str, heartbeat_id: str) -> str:
        """Accept ``user``'s heartbeat; the id the next one must carry (HeartbeatRejected)."""
        with self.state.lock:
            self.advance()
            return self.heartbeats.beat(user.lower(), heartbeat_id, self.now())

    # -- cancellation ------------------------------------------------------------------------

    def _cancel_record(self, record: OrderRecord, status: str = ORDER_CANCELED) -> None:
        if record.resting is not None:
            ladder = self.state.ladders.get(record.market)
            if ladder is not None:
                remove_resting(ladder, record.resting)
        record.resting = None
        record.status = status
        self.open_orders.pop(record.order_id, None)

    def cancel_resolved(self, condition_id: str) -> list[str]:
        """Cancel every resting order in a market that resolved (every owner), as the venue
        does: ``ORDER_STATUS_CANCELED_MARKET_RESOLVED``. Returns the cancelled order ids."""
        with self.state.lock:
            records = [r for r in self.open_orders.values() if r.market == condition_id]
            held = [t.record for t, _ in self.delayed.values() if t.record.market == condition_id]
            for record in records + held:
                self.delayed.pop(record.order_id, None)
                self._cancel_record(record, ORDER_CANCELED_RESOLVED)
            return [r.order_id for r in records + held]

    def cancel(self, user: str, order_ids: list[str]) -> dict[str, Any]:
        """Cancel ``user``'s orders by id; the live ``{"canceled", "not_canceled"}`` body."""
        with self.state.lock:
            self.advance()
            self.check_engine(post_only=False, cancel=True)
            canceled: list[str] = []
            not_canceled: dict[str, str] = {}
            for order_id in order_ids:
                record = self.orders.get(order_id)
                if record is None or record.user != user.lower():
                    not_canceled[order_id] = "Order not found"
                elif record.status == ORDER_DELAYED:
                    not_canceled[order_id] = "order can't be canceled: it is in a matching delay"
                elif record.status != ORDER_LIVE:
                    not_canceled[order_id] = "order can't be canceled: it is not live"
                else:
                    self._cancel_record(record)
                    canceled.append(order_id)
            return {"canceled": canceled, "not_canceled": not_canceled}

    def cancel_where(self, user: str, market: str = "", asset_id: str = "") -> dict[str, Any]:
        """Cancel every open order of ``user``, optionally only in one market or token."""
        with self.state.lock:
            self.advance()
            ids = [
                r.order_id
                for r in self.open_orders.values()
                if r.user == user.lower()
                and (not market or r.market == market)
                and (not asset_id or r.asset_id == asset_id)
            ]
            return self.cancel(user, ids)
