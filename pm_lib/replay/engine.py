"""The replay: a recording's messages through the scan's own stages, on the replay's clock.

Messages are read in ``timestamp`` order (``pm_lib.replay.stream``), digested to integer records
(``pm_lib.replay.digest``: in a worker process for a large recording) and applied to local books
(``LocalBooks.play``). When the clock moves past a timestamp, the units whose books changed
(``pm_lib.replay.units``) and whose top of book can hold an opportunity are evaluated as one
scan would evaluate them, by the very stages of ``pm_lib.pipeline.scan`` (run in place, on this
thread: ``calls_in_place``): ``portfolio_stage`` (the one portfolio, the daily-loss
breaker), ``signals_stage`` (the configured strategies), ``risk_stage`` (the risk gate and its
slippage guard), each storing what it decided, with a ``RunContext`` whose ``now()`` is the
replay's clock, all under the backtest's one stored run.

A decision made on the book at ``t`` reaches the venue at ``t + L``: ``execute_stage`` (claims,
the kill switch, the paper executor and its venue rules: FOK fills whole or is killed, fees per
the market's schedule) runs then, against the books as they stand at ``t + L`` (every message up
to ``t + L`` applied), so a dip shorter than ``L`` is missed. What a fill took is taken from the
local book and stays taken until a later message sets that level again: a recorded dip is never
bought twice. A unit with an order in flight is not re-evaluated until it has been executed.

At the end every position in a market of ``resolutions.json`` settles at its outcome's final
price (a fee-free paper fill), and the account is read through ``pm_lib.portfolio`` for the
report.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import chain
from pathlib import Path

from sqlalchemy.engine import Engine

from pm_lib.execution.base import Executor, calls_in_place
from pm_lib.execution.factory import make_executor
from pm_lib.execution.paper_rules import FOK_NOT_FILLED
from pm_lib.models import Catalogue, Fill, OrderBook, OrderStatus, Side, TradeStatus
from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.decisions import Signals
from pm_lib.pipeline.scan import execute_stage, portfolio_stage, risk_stage, signals_stage
from pm_lib.pipeline.scan_memory import cyclic_gc_paused
from pm_lib.portfolio.account import Portfolio, read_portfolio
from pm_lib.replay.books import SCALE, LocalBooks, Record, micro
from pm_lib.replay.digest import Digest, digests
from pm_lib.replay.recording import load_catalogue, load_resolutions
from pm_lib.replay.report import BacktestResult, FillRecord, OpportunityRecord
from pm_lib.replay.units import Triggers, Unit, build_units
from pm_lib.settings import Settings
from pm_lib.store import (
    fills_for_intent,
    fills_kept,
    finish_run,
    intent_key_for,
    session_scope,
    start_run,
    upsert_fill,
)
from pm_lib.venue.books import BookBatch

__all__ = ["ReplayContext", "replay_recording"]

EPOCH = datetime.fromtimestamp(0, UTC)
_NEVER = 2**63


@dataclass(frozen=True)
class ReplayContext(RunContext):
    """A run context whose clock is the replay's (its executor's too: fills are stamped at
    replay time, so "today", the breaker and the ledger follow the replay)."""

    at: datetime = EPOCH

    def now(self) -> datetime:
        return self.at

    def executor(self, books: Mapping[str, OrderBook] | None = None) -> Executor:
        return make_executor(
            self.settings,
            live_armed=False,
            engine=self.engine,
            run_id=self.run_id,
            flow_run_id=self.flow_run_id,
            books=books,
            clock=self.now,
        )


def _at(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


@dataclass
class _InFlight:
    due: int
    decided_ms: int
    ctx: ReplayContext
    units: tuple[Unit, ...]
    signals: Signals
    versions: dict[str, int]


@dataclass
class _Replay:
    settings: Settings
    engine: Engine
    catalogue: Catalogue
    latency_ms: int
    fair_values: dict[str, str] | None
    books: LocalBooks = field(init=False)
    units: dict[str, Unit] = field(init=False)
    unit_of: dict[str, Unit] = field(init=False)
    neg_risk: frozenset[str] = field(init=False)
    in_flight: deque[_InFlight] = field(default_factory=deque)
    busy: set[str] = field(default_factory=set)
    triggers: Triggers = field(init=False)
    resolutions: dict[str, Decimal] = field(default_factory=dict)
    settle_queue: deque[tuple[int, set[str]]] = field(default_factory=deque)
    held: set[str] = field(default_factory=set)
    result: BacktestResult = field(init=False)
    run_id: str = "backtest"
    ctx: ReplayContext | None = None
    decisions: int = 0
    worker: bool | None = None  # digests from a worker process (None: for large recordings)
    source: Generator[Digest, None, None] | None = None  # digests already started

    def __post_init__(self) -> None:
        ticks = {t: micro(m.tick_size) for m in self.catalogue.markets for t in m.token_ids}
        sizes = {t: micro(m.min_order_size) for m in self.catalogue.markets for t in m.token_ids}
        self.units, self.unit_of = build_units(self.catalogue)
        self.neg_risk = frozenset(t for u in self.units.values() for t in u.neg_risk)
        names = set(self.settings.strategies)
        self.triggers = Triggers(
            self.units,
            complement="complement_arbitrage" in names,
            negrisk="negrisk_arbitrage" in names,
            always="fair_value" in names,
            ceiling=SCALE - micro(max(self.settings.min_edge, Decimal(0))),
        )
        self.books = LocalBooks(ticks, sizes, self.triggers.on_ask)
        self.result = BacktestResult(
            latency_ms=self.latency_ms,
            strategies=tuple(self.settings.strategies),
            equity_start=self.settings.paper_balance,
        )

    # --- the loop -----------------------------------------------------------------------------
    async def run(self, directory: Path) -> None:
        current: int | None = None
        count = 0
        books, hot, in_flight = self.books, self.triggers.hot, self.in_flight
        play, chosen, busy = books.play, self.triggers.chosen, self.busy

        def wanted(changed: set[str]) -> bool:
            return bool(chosen(changed, busy))

        wake = self._wake()
        source = self.source or digests(directory, worker=self.worker)
        with closing(source):  # a worker process ends with the replay, whatever ends it
            for messages, fresh, stamps, *columns, others in source:
                count += messages
                books.name(fresh)
                if not stamps:
                    continue
                if current is None:
                    current = self.result.first_ms = stamps[0]
                rest = zip(stamps, *columns, strict=True)
                records: Iterator[Record] = rest
                while True:
                    # applies records until the clock moves on and something is to be done
                    stop, current = play(records, others, current, wake, hot, wanted)
                    if stop is None:
                        break
                    stamp = stop[0]
                    if books.changed:
                        await self._decide(current)
                    while in_flight and in_flight[0].due < stamp:
                        await self._execute(in_flight.popleft())
                    if self.settle_queue and self.settle_queue[0][0] < stamp:
                        await self._settle_due(stamp)
                    current = stamp
                    wake = self._wake()
                    records = chain((stop,), rest)  # the record that stopped it, then the rest
        if current is not None:
            if books.changed:
                await self._decide(current)
            while in_flight:
                flight = in_flight.popleft()
                await self._execute(flight)
                current = max(current, flight.due)
            self.result.last_ms = current
        self.result.messages = count

    def _wake(self) -> int:
        """The time after which the loop must stop (an order or a settlement is due then)."""
        due = self.in_flight[0].due if self.in_flight else _NEVER
        if self.settle_queue:
            due = min(due, self.settle_queue[0][0])
        return due

    # --- decisions (the scan's stages at t) ---------------------------------------------------
    async def _decide(self, now_ms: int) -> None:
        changed = self.books.changed
        chosen = self.triggers.chosen(changed, self.busy)
        changed.clear()
        if not chosen:
            return
        at = _at(now_ms)
        ctx = self._context(at)
        catalogue = _joined(chosen, self.catalogue.fetched_at)
        batch = self._batch([t for u in chosen for t in u.tokens], at)
        portfolio = await portfolio_stage(ctx, batch, catalogue)
        signals = await signals_stage(ctx, catalogue, batch, portfolio, self.fair_values)
        if not signals.opportunities:
            return
        decided = await risk_stage(ctx, catalogue, batch, portfolio, signals)
        approved = {o.id for o in decided.approved}
        for decision in decided.decisions:
            if not decision.approved:
                opp = next(o for o in decided.opportunities if o.id == decision.opportunity_id)
                self.result.opportunities.append(
                    OpportunityRecord.of(
                        opp, now_ms, "rejected", f"risk: {decision.rule}", decision.reason
                    )
                )
        if not approved:
            return
        flight = _InFlight(
            due=now_ms + self.latency_ms,
            decided_ms=now_ms,
            ctx=ctx,
            units=tuple(chosen),
            signals=decided,
            versions={t: b.version for t, b in self.books.books.items() if t in batch.books},
        )
        self.busy.update(u.key for u in chosen)
        if self.latency_ms == 0:
            await self._execute(flight)
        else:
            self.in_flight.append(flight)

    # --- execution (the scan's execute stage at t + L) ----------------------------------------
    async def _execute(self, flight: _InFlight) -> None:
        at = _at(flight.due)
        ctx = replace(flight.ctx, at=at)
        catalogue = _joined(flight.units, self.catalogue.fetched_at)
        legs = [leg.token_id for o in flight.signals.approved for leg in o.legs]
        batch = self._batch(legs, at)
        execution = await execute_stage(ctx, catalogue, batch, flight.signals)
        taken: list[Fill] = []
        with session_scope(self.engine, read_only=True) as session:
            for result in execution.results:
                taken.extend(fills_for_intent(session, result.intent_key))
        for fill in taken:
            self.books.take(fill.token_id, fill.side, fill.price, fill.size)
            self.held.add(fill.token_id)
            self.result.fills.append(FillRecord.of(fill, flight.due))
        self._classify(flight, execution.results, execution.skipped, batch.books)
        for unit in flight.units:
            self.busy.discard(unit.key)
            self.books.changed.update(unit.tokens)  # what changed meanwhile is looked at again
        if taken:
            self._mark_equity(flight.due)

    def _classify(
        self,
        flight: _InFlight,
        results: tuple,  # type: ignore[type-arg]
        skipped: tuple[tuple[str, str], ...],
        books: Mapping[str, OrderBook],
    ) -> None:
        refused = dict(skipped)
        by_key = {r.intent_key: r for r in results}
        moved = any(
            self.books.books[t].version != v for t, v in flight.versions.items() if t in books
        )
        for opp in flight.signals.approved:
            if opp.id in refused:
                record = OpportunityRecord.of(
                    opp, flight.decided_ms, "missed", f"execute: {refused[opp.id]}"
                )
                self.result.opportunities.append(record)
                continue
            keys = [intent_key_for(flight.ctx.run_id, opp.id, i) for i in range(len(opp.legs))]
            mine = [by_key[k] for k in keys if k in by_key]
            if len(mine) == len(keys) and all(r.status is OrderStatus.MATCHED for r in mine):
                outcome, why = "filled", ""
            else:
                errors = {
                    r.error or r.status.value for r in mine if r.status is not OrderStatus.MATCHED
                }
                killed = any(e == FOK_NOT_FILLED for e in errors)
                if killed:
                    why = "latency" if self.latency_ms > 0 and moved else "depth"
                else:
                    why = "venue: " + ("; ".join(sorted(errors)) or "not placed")
                outcome = "missed"
            detail = "; ".join(sorted({r.error for r in mine if r.error}))
            self.result.opportunities.append(
                OpportunityRecord.of(opp, flight.decided_ms, outcome, why, detail)
            )

    # --- helpers ------------------------------------------------------------------------------
    def _context(self, at: datetime) -> ReplayContext:
        if self.ctx is None:
            self.ctx = ReplayContext(
                settings=self.settings,
                engine=self.engine,
                run_id=self.run_id,
                flow_name="backtest",
                started_at=at,
                at=at,
            )
            with session_scope(self.engine) as session:
                start_run(
                    session,
                    run_id=self.run_id,
                    flow_name="backtest",
                    mode="paper",
                    flow_run_id=None,
                    started_at=at,
                )
        self.decisions += 1
        return replace(self.ctx, at=at)

    def _batch(self, tokens: list[str], at: datetime) -> BookBatch:
        wanted = dict.fromkeys([*tokens, *sorted(self.held)])
        got = self.books.books
        return BookBatch.model_construct(
            books={t: got[t].order_book(t in self.neg_risk, at) for t in wanted if t in got},
            missing=tuple(t for t in wanted if t not in got),
            skipped=(),
            requests=0,
            retries=0,
            rate_limited=0,
            fetched_at=at,
        )

    def finish(self) -> None:
        """Close the backtest's run row with its totals (one run for the whole replay: its
        leases and reservations are its own, as in one scan loop)."""
        if self.ctx is None:
            return
        result = self.result
        with session_scope(self.engine) as session:
            finish_run(
                session,
                self.run_id,
                status="completed",
                markets=len(self.catalogue.markets),
                books=len(self.books.books),
                opportunities=len(result.opportunities),
                approved=result.count("filled") + result.count("missed"),
                orders=len(result.fills),
                stage_timings={"decisions": str(self.decisions)},
                finished_at=_at(result.last_ms or 0),
            )

    def _account(self, at_ms: int) -> Portfolio:
        at = _at(at_ms)
        batch = self._batch(sorted(self.held), at)
        with session_scope(self.engine, read_only=True) as session:
            return read_portfolio(
                session,
                "paper",
                at,
                self.settings,
                books=batch.books,
                markets=self.catalogue.market_by_condition(),
                events=self.catalogue.events,
            )

    def _mark_equity(self, at_ms: int) -> None:
        account = self._account(at_ms)
        if account.equity is not None:
            self.result.equity_curve.append((at_ms, account.equity))

    # --- settlement and the account at the end ------------------------------------------------
    def _settle(self, tokens: set[str], at_ms: int) -> None:
        """Every held share of ``tokens`` pays its outcome's final price (a fee-free paper
        SELL at that price, so the one ledger realises it)."""
        account = self._account(at_ms)
        held = [(t, p) for t, p in sorted(account.positions.items()) if t in tokens]
        if not held:
            return
        with session_scope(self.engine) as session:
            for token, position in held:
                if position.size <= 0:
                    continue
                fill = Fill(
                    trade_id=f"settlement:{token}",
                    order_id="settlement",
                    token_id=token,
                    condition_id=position.condition_id,
                    side=Side.SELL,
                    size=position.size,
                    price=self.resolutions[token],
                    fee=Decimal(0),
                    status=TradeStatus.CONFIRMED,
                    is_taker=False,
                    matched_at=_at(at_ms),
                )
                upsert_fill(session, fill, mode="paper", run_id=self.run_id, at=_at(at_ms))
                self.result.settlements.append(FillRecord.of(fill, at_ms))
        self._mark_equity(at_ms)

    async def _settle_due(self, before_ms: int) -> None:
        """Settle the markets whose resolution time is before ``before_ms``."""
        queue = self.settle_queue
        while queue and queue[0][0] < before_ms:
            at_ms, tokens = queue.popleft()
            self._settle(tokens, at_ms)

    def close(self) -> None:
        """Settle what is left (resolved markets without a time in the replay), read the
        account at the end."""
        end = self.result.last_ms or 0
        left: set[str] = set()
        for _, tokens in self.settle_queue:
            left |= tokens
        self.settle_queue.clear()
        self._settle(left, end)
        self.result.close(self._account(end))


def _joined(units: tuple[Unit, ...] | list[Unit], fetched_at: datetime) -> Catalogue:
    if len(units) == 1:
        return units[0].catalogue
    return Catalogue(
        markets=tuple(m for u in units for m in u.catalogue.markets),
        events=tuple(e for u in units for e in u.catalogue.events),
        fetched_at=fetched_at,
    )


async def replay_recording(
    directory: Path,
    settings: Settings,
    engine: Engine,
    *,
    latency_ms: int = 0,
    fair_values: dict[str, str] | None = None,
    run_id: str = "backtest",
    worker: bool | None = None,
    source: Generator[Digest, None, None] | None = None,
    sole_writer: bool = True,
) -> BacktestResult:
    """Replay the recording in ``directory`` into ``engine`` (a migrated, empty store) with the
    decision-to-venue latency ``latency_ms``; the report's figures. ``worker``: read the
    messages in a worker process (``pm_lib.replay.digest``; ``None``: when the recording is
    large). ``source``: the recording's digests, already started (``digests``), else read here.
    ``sole_writer``: no other process writes the store meanwhile, so the ledger is kept between
    reads (``fills_kept``; a named database is read afresh every time).
    """
    catalogue = load_catalogue(directory)
    resolutions = load_resolutions(directory)
    replay = _Replay(
        settings, engine, catalogue, latency_ms, fair_values, run_id=run_id, worker=worker
    )
    replay.source = source
    replay.resolutions = resolutions.prices
    replay.settle_queue = deque(resolutions.schedule())
    with cyclic_gc_paused(), calls_in_place(), fills_kept() if sole_writer else nullcontext():
        await replay.run(directory)
        replay.close()
    replay.finish()
    return replay.result
