"""A chaos session: one wallet, one fresh database and randomised risk limits for a few cycles.

Every scan and reconcile opens its own engine (a restart, as far as pm-agent can tell); the
session keeps one more for the harness's own reads. On PostgreSQL the database is a throwaway
schema, dropped when the session closes.
"""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from _chaos_faults import DatabaseLock, FaultPlan, VenueControl
from _chaos_invariants import HARNESS_PREFIX, Violation, check_cycle, daily_loss, intents
from _chaos_run import chaos_now, reconcile_account, scan, settings_from
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from pm_lib.auth import credentials_from_mapping
from pm_lib.execution.live import LiveExecutor
from pm_lib.models import FeeSchedule, OrderRequest, OrderType, Side
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import halt, make_engine, resume, session_scope, upgrade

__all__ = ["Session", "open_session"]


def _limits(rng: random.Random) -> dict[str, Any]:
    # Planted baskets cost 0.8-0.94 x 10-60 shares: most limits let one through, some do not.
    order = Decimal(rng.choice([5, 20, 60]))
    market = max(order, Decimal(rng.choice([10, 30, 60])))
    group = max(market, Decimal(rng.choice([40, 150, 400])))
    return {
        "max_order_notional": order,
        "max_position_per_market": market,
        "max_position_per_group": group,
        "max_total_exposure": group * rng.choice([1, 3, 8]),
        "max_daily_loss": Decimal(rng.choice([1, 5, 100, 100, 100, 100])),
        "max_open_orders": rng.choice([2, 50, 50]),
        "unwind_policy": rng.choice(["sell_back", "hold"]),
    }


def _schema(base_url: str, name: str, *, drop: bool = False) -> str:
    dsn = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{name}" CASCADE' if drop else f'CREATE SCHEMA "{name}"')
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False)


@dataclass
class Session:
    """One wallet and database over some cycles."""

    number: int
    running: RunningVenue
    control: VenueControl
    fields: dict[str, Any]
    settings: Settings
    engine: Engine
    address: str
    start_pusd: Decimal
    base_url: str | None = None
    schema: str | None = None

    def breaker_tripped(self, offset: float) -> bool:
        """Whether a run starting now would find today's loss at the limit (read from the DB)."""
        return daily_loss(self.engine, self.settings, chaos_now(offset)) >= (
            self.settings.max_daily_loss
        )

    def intent_keys(self) -> set[str]:
        """Every stored intent key."""
        return {r.intent_key for r in intents(self.engine)}

    def place_resting_order(self, offset: float) -> LiveExecutor:
        """A GTC BUY far below the market that rests (heartbeats start); its executor."""
        state = self.running.venue.state
        market = sorted(
            (m for m in state.markets.values() if m.active and m.accepting_orders and not m.closed),
            key=lambda m: m.condition_id,
        )[self.number % 7]
        return self._harness_order(
            offset, market, market.token_ids[0], Decimal(5), market.tick_size
        )

    def cancelled_by_venue(self, executor: LiveExecutor) -> bool:
        """Close the harness's executor; whether the venue cancelled its resting order."""
        executor.close()
        rows = [r for r in intents(self.engine) if r.intent_key.startswith(HARNESS_PREFIX)]
        venue = {o["id"]: o["status"] for o in self.control.orders(self.address)}
        return bool(rows) and "CANCELED" in str(venue.get(rows[-1].venue_order_id, ""))

    def place_partial_order(self, offset: float, rng: random.Random) -> LiveExecutor:
        """A thin ask planted on a market outside every neg-risk event, and a marketable GTC
        BUY bigger than it: the ask fills it in part, the rest rests. Its executor."""
        state = self.running.venue.state
        markets = sorted(
            (
                m
                for m in state.markets.values()
                if m.active and m.accepting_orders and not m.closed and not m.neg_risk
            ),
            key=lambda m: m.condition_id,
        )
        market = rng.choice(markets)
        tick = market.tick_size
        price = Decimal("0.50")
        thin = Decimal(rng.choice([3, 5, 8]))
        self.control.call(
            "POST",
            "/book",
            {
                "token_id": market.yes_token,
                "bids": [[str(price - 2 * tick), "50"]],
                "asks": [[str(price), str(thin)], [str(price + 5 * tick), "50"]],
            },
        )
        return self._harness_order(
            offset, market, market.yes_token, thin + rng.choice([4, 10]), price
        )

    def _harness_order(
        self, offset: float, market: Any, token: str, size: Decimal, price: Decimal
    ) -> LiveExecutor:
        fees = (
            FeeSchedule(rate=market.fee_rate, exponent=market.fee_exponent)
            if market.fees_enabled
            else FeeSchedule.none()
        )
        executor = LiveExecutor.connect(
            self.settings,
            self.engine,
            credentials_from_mapping(os.environ),
            run_id="chaos-harness",
            clock=lambda: chaos_now(offset),
        )
        executor.place(
            [
                OrderRequest(
                    intent_key=f"{HARNESS_PREFIX}{uuid.uuid4().hex}",
                    token_id=token,
                    condition_id=market.condition_id,
                    side=Side.BUY,
                    size=size,
                    price=price,
                    order_type=OrderType.GTC,
                    tick_size=market.tick_size,
                    neg_risk=market.neg_risk,
                    fees=fees,
                )
            ]
        )
        return executor

    def partly_filled(self) -> bool:
        """Whether the harness's newest order filled in part (some, not all, matched)."""
        rows = [r for r in intents(self.engine) if r.intent_key.startswith(HARNESS_PREFIX)]
        venue = {o["id"]: o for o in self.control.orders(self.address)}
        order = venue.get(rows[-1].venue_order_id) if rows else None
        if order is None:
            return False
        return 0 < Decimal(order["size_matched"]) < Decimal(order["original_size"])

    def ghost_trades(self, token: str | None = None) -> int:
        """Trades of this wallet the venue decided will revert on chain (on ``token``)."""
        return sum(
            1
            for t in self.control.trades(self.address)
            if t.get("ghost") and token in (None, t["asset_id"])
        )

    def refusals(self) -> int:
        """Baskets refused because their outcome set could not be trusted (stored reasons)."""
        with self.engine.connect() as db:
            return int(db.execute(text("SELECT count(*) FROM basket_refusal")).scalar() or 0)

    def set_halt(self, on: bool) -> None:
        """The kill switch, as the operator sets it (``resume`` when off)."""
        with session_scope(self.engine) as db:
            if on:
                halt(db, "chaos: operator halt", "chaos")
            else:
                resume(db, "chaos: resumed", "chaos")

    def override(self, fields: dict[str, Any]) -> None:
        """Change some settings of the session (its workers' too) from now on."""
        self.fields = self.fields | fields
        self.settings = settings_from(self.fields)

    def scan_here(self, plan: FaultPlan, offset: float) -> dict[str, Any]:
        """A scan in this process on a fresh engine, with the plan's database lock if any.

        ``lock_held`` in the answer: seconds the lock was held (0 without one).
        """
        url = self.settings.resolved_database_url
        lock = DatabaseLock(url, plan.lock_delay, plan.lock_seconds) if plan.lock_seconds else None
        if lock is not None:
            lock.start()
        engine = make_engine(url)
        try:
            answer = scan(self.settings, engine, offset)
        finally:
            engine.dispose()
            if lock is not None:
                lock.join()
        return answer | {"lock_held": lock.held if lock is not None else 0.0}

    def reconcile(self, offset: float, *, elsewhere: bool) -> dict[str, Any]:
        """Reconcile here or in a fresh process."""
        if elsewhere:
            from _chaos_workers import reconcile_elsewhere

            return reconcile_elsewhere(self, offset)
        return self.reconcile_here(offset)

    def reconcile_here(self, offset: float) -> dict[str, Any]:
        """Reconcile in this process on a fresh engine."""
        engine = make_engine(self.settings.resolved_database_url)
        try:
            report = reconcile_account(self.settings, engine, offset)
        except Exception as e:  # an unreadable venue answer fails reconcile (and its run row)
            return {"error": f"{type(e).__name__}: {e}"[:300]}
        finally:
            engine.dispose()
        return {"discrepancies": list(report.discrepancies), "changes": len(report.changes)}

    def check(
        self, *, new_keys: set[str], breaker_tripped: bool, clean: bool | None = None
    ) -> list[Violation]:
        """The invariants after this cycle (``clean``: the last reconcile found nothing)."""
        state = self.running.venue.state
        event_sets = {
            e.event_id: frozenset(e.condition_ids) for e in state.events.values() if e.neg_risk
        }
        return check_cycle(
            self.engine,
            self.settings,
            self.control,
            self.address,
            self.start_pusd,
            new_keys=new_keys,
            breaker_tripped=breaker_tripped,
            clean=clean,
            event_sets=event_sets,
        )

    def break_records(self) -> bool:
        """Delete the newest fill and overwrite the newest intent's order id (``--sabotage``)."""
        with self.engine.begin() as db:
            fill = db.execute(text("SELECT max(id) FROM fill")).scalar()
            intent = db.execute(
                text("SELECT max(id) FROM order_intent WHERE venue_order_id IS NOT NULL")
            ).scalar()
            if fill is None or intent is None:
                return False
            db.execute(text("DELETE FROM fill WHERE id = :id"), {"id": fill})
            db.execute(
                text("UPDATE order_intent SET venue_order_id = 'sabotaged' WHERE id = :id"),
                {"id": intent},
            )
        return True

    def close(self) -> None:
        """Release the engine (and drop the PostgreSQL schema)."""
        self.engine.dispose()
        if self.base_url is not None and self.schema is not None:
            _schema(self.base_url, self.schema, drop=True)


def open_session(
    number: int,
    running: RunningVenue,
    control: VenueControl,
    rng: random.Random,
    workdir: Path,
    database_url: str | None,
    limits: dict[str, Any] | None = None,
    key: str | None = None,
) -> Session:
    """A fresh wallet (a fixed throw-away key per session) and database, migrated.

    Risk limits are drawn from ``rng`` unless ``limits`` are given; the key is ``0xNNNN...``
    (the session number + 1 repeated) unless ``key`` is given.
    """
    key = key or "0x" + f"{number % 254 + 1:02x}" * 32
    os.environ["POLYMARKET_PRIVATE_KEY"] = key  # read by the factory, inherited by workers
    schema = f"pm_chaos_{uuid.uuid4().hex[:10]}" if database_url else None
    if database_url and schema:
        url = _schema(database_url, schema)
    else:
        url = f"sqlite:///{workdir / f'session-{number}.db'}"
    fields: dict[str, Any] = {
        "mode": "live",
        "clob_url": running.clob_url,
        "gamma_url": running.gamma_url,
        "database_url": url,
        "data_dir": str(workdir),
        "http_timeout_seconds": 1.0,
        "http_max_retries": 2,
        "strategies": ["negrisk_arbitrage", "complement_arbitrage"],
        **{k: str(v) for k, v in (limits or _limits(rng)).items()},
    }
    settings = settings_from(fields)
    engine = make_engine(url)
    upgrade(engine)
    address = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": key}).address
    wallet = control.wallet(address)  # first sight funds it (autofund)
    return Session(
        number=number,
        running=running,
        control=control,
        fields=fields,
        settings=settings,
        engine=engine,
        address=address,
        start_pusd=Decimal(str(wallet["pusd"])) / Decimal(1_000_000),
        base_url=database_url,
        schema=schema,
    )
