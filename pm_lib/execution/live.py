"""Live trading through ``pm_lib.venue.trading`` with a safe order lifecycle.

For each request, in this order (the DB write of each step commits before the next starts):

1. store the intent (deterministic key); a key already stored means another run or worker owns
   it: nothing is sent and the stored state is reported;
2. check the kill switch (``halt_refusal``: a halt committed since the scan started stops this
   order, REJECTED "not sent", unless it is an unwind), then the venue's tick and amount rules
   locally, then sign ONCE; the signed order's hash is its venue order id;
3. store the hash (``set_signed``) BEFORE posting;
4. post once (no resend). A refusal is REJECTED. An ambiguous outcome (timeout,
   dropped connection, 5xx, unreadable answer) is UNKNOWN and resolved by looking the hash up
   (``/data/order``, then trades), never by signing or posting again.

A basket's legs may go together (``place_batch``, ``PM_BASKET_POSTING=batch``): the same steps,
each leg's intent stored, signed once and its hash stored before the one ``POST /orders``; an
ambiguous answer resolves each leg by looking its hash up, never by posting again.

Answers in more than one step: ``matched`` for a GTC/GTD that filled in part leaves it LIVE
(the remainder rests, its filled part stored); ``delayed`` (a taker delay; for a FOK/FAK the
only way it can be "live") is awaited up to ``PM_DELAYED_ORDER_WAIT_SECONDS``, then UNKNOWN.

Fills come from the venue's trades: MATCHED/MINED/RETRYING are provisional, CONFIRMED final,
FAILED reversed in positions and P&L (``ledger``). Heartbeats run while an order rests; ``close``
cancels what this executor left resting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.book_math import is_valid_price, precision_problem
from pm_lib.errors import (
    BadVenueData,
    OutcomeUnknown,
    RejectedByVenue,
    RetryableError,
    VenueError,
)
from pm_lib.execution.base import ExecutionMode, OrderSnapshot
from pm_lib.execution.heartbeat import Heartbeat
from pm_lib.execution.intents import already_exists_result, intent_spec, result_from_row
from pm_lib.execution.live_fills import FillSync
from pm_lib.models import (
    ZERO,
    Fill,
    OrderRequest,
    OrderResult,
    OrderStatus,
    OrderType,
    Position,
    Side,
)
from pm_lib.portfolio.ledger import counts, replay
from pm_lib.settings import Settings
from pm_lib.store import (
    IntentAlreadyExists,
    OrderIntentRow,
    create_intent,
    fills,
    halt_refusal,
    intent_by_key,
    intent_by_order_id,
    open_intents,
    session_scope,
    set_signed,
    update_intent,
)
from pm_lib.store.control import halted, is_unwind_key
from pm_lib.venue.trading import (
    MAX_BATCH_ORDERS,
    SignedOrder,
    TradingClient,
)
from pm_lib.venue.wire import PostOrderAck, VenueOrder

__all__ = ["DELAYED_POLL_SECONDS", "UNKNOWN_GRACE", "LiveExecutor", "local_refusal"]

logger = logging.getLogger(__name__)

DELAYED_POLL_SECONDS = 0.2
"""How often an order held in the venue's taker delay is looked up."""

UNKNOWN_GRACE = timedelta(seconds=60)
"""How long an order the venue does not know may still be in flight before it counts as never
placed (an ambiguous post, or a crash between storing the hash and posting)."""


def local_refusal(request: OrderRequest) -> str | None:
    """Why the venue would refuse ``request`` on its tick and amounts alone, or None."""
    if not is_valid_price(request.price, request.tick_size):
        return f"price {request.price} breaks the minimum tick size rule: {request.tick_size}"
    if request.post_only and request.order_type.is_marketable_only:
        return "invalid post-only order: only GTC and GTD orders can be post-only"
    return precision_problem(
        request.side, request.size, request.price, request.tick_size, request.order_type
    )


class LiveExecutor:
    """The real venue behind the ``Executor`` interface."""

    mode: ExecutionMode = "live"

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        client: TradingClient,
        *,
        run_id: str = "",
        clock: Callable[[], datetime] | None = None,
        flow_run_id: str | None = None,
        unknown_grace: timedelta = UNKNOWN_GRACE,
        release_client: Callable[[], None] | None = None,
    ) -> None:
        """``release_client``: the client is shared (a stream window's, ``ExecutorWindow``):
        ``close`` calls it instead of closing the client."""
        self._settings = settings
        self._release_client = release_client
        self._engine = engine
        self._client = client
        self._run_id = run_id or "manual"
        self._flow_run_id = flow_run_id
        self._clock = clock or (lambda: datetime.now(UTC))
        self._grace = unknown_grace
        self._fills = FillSync(
            client, engine, run_id=self._run_id, flow_run_id=flow_run_id, clock=self._clock
        )
        self.heartbeat = Heartbeat(client.heartbeat, settings.heartbeat_interval_seconds)
        self._resting: set[str] = set()  # orders this executor placed that rest on the book

    @classmethod
    def connect(
        cls,
        settings: Settings,
        engine: Engine,
        credentials: Credentials,
        *,
        run_id: str = "",
        clock: Callable[[], datetime] | None = None,
        flow_run_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> LiveExecutor:
        """Connect an adapter of its own (``TradingClient.connect``: its timeouts, its read
        retries, API credentials derived if absent)."""
        client = TradingClient.connect(settings, credentials, transport=transport)
        return cls(settings, engine, client, run_id=run_id, clock=clock, flow_run_id=flow_run_id)

    def __repr__(self) -> str:
        return f"LiveExecutor(run_id={self._run_id!r}, client={self._client!r})"

    # --- placing ---------------------------------------------------------------------------
    def place(self, requests: Sequence[OrderRequest]) -> list[OrderResult]:
        """Place each request once, in order (see the module docstring for the lifecycle)."""
        return [self._place_one(request) for request in requests]

    def place_batch(self, requests: Sequence[OrderRequest]) -> list[OrderResult]:
        """Place up to 15 requests (a basket's legs) at once, in one ``POST /orders``.

        The single-order lifecycle, leg by leg where it matters: every leg's intent is stored
        (one commit), then the kill switch (one read for the batch) and the local rules are
        checked, each leg is signed ONCE and every hash stored (one commit) BEFORE the post.
        Nothing is sent unless every leg can be: a leg refused before sending (halt, local rule,
        signing, an intent another run already holds) leaves the others REJECTED "not sent".
        Then one post, never repeated: an ambiguous answer for the whole batch makes every leg
        UNKNOWN and each is resolved by looking its hash up; so is a leg whose entry is missing
        or unreadable; a leg the venue refused is REJECTED; the others are recorded as ``place``
        records an ack.
        """
        if not requests:
            return []
        if len(requests) > MAX_BATCH_ORDERS:
            raise ValueError(f"a batch holds at most {MAX_BATCH_ORDERS} orders")
        now = self._clock()
        specs = [
            intent_spec(r, run_id=self._run_id, mode="live", now=now, flow_run_id=self._flow_run_id)
            for r in requests
        ]
        try:
            with session_scope(self._engine) as session:
                for spec in specs:
                    create_intent(session, spec)
        except IntentAlreadyExists:
            return self._place_batch_held(requests)
        for request in requests:
            self._fills.remember_fees(request.condition_id, request.fees)
        halt = halted(self._engine)
        refusals: dict[str, str] = {}
        signed: list[SignedOrder] = []
        for request in requests:
            key = request.intent_key
            held = None if halt is None or is_unwind_key(key) else f"trading halted: {halt}"
            refusal = held or local_refusal(request)
            if refusal is None:
                try:
                    signed.append(self._client.sign(request))
                    continue
                except VenueError as e:  # nothing was posted: only cached reads may have failed
                    refusal = str(e)
            refusals[key] = refusal
        if refusals:
            first = next(iter(refusals))
            return [
                self._settle(
                    r.intent_key,
                    OrderStatus.REJECTED,
                    error=f"not sent: {refusals[r.intent_key]}"
                    if r.intent_key in refusals
                    else f"not sent: leg {first} of the batch was refused: {refusals[first]}",
                )
                for r in requests
            ]
        at = self._clock()
        with session_scope(self._engine) as session:
            for one in signed:
                set_signed(session, one.request.intent_key, one.order_id, at=at)
        return self._post_batch(signed)

    def _place_batch_held(self, requests: Sequence[OrderRequest]) -> list[OrderResult]:
        """A batch some of whose intents are already stored (a re-run, another worker): those
        report their stored state, the new ones are stored and REJECTED, nothing is sent."""
        out: list[OrderResult] = []
        now = self._clock()
        for request in requests:
            key = request.intent_key
            spec = intent_spec(
                request, run_id=self._run_id, mode="live", now=now, flow_run_id=self._flow_run_id
            )
            try:
                with session_scope(self._engine) as session:
                    create_intent(session, spec)
            except IntentAlreadyExists:
                with session_scope(self._engine) as session:
                    row = intent_by_key(session, key)
                out.append(already_exists_result(row, key))
                continue
            error = "not sent: another leg of the batch is already stored"
            out.append(self._settle(key, OrderStatus.REJECTED, error=error))
        return out

    def _post_batch(self, signed: Sequence[SignedOrder]) -> list[OrderResult]:
        try:
            outcomes = self._client.post_many(signed)
        except OutcomeUnknown as e:
            for one in signed:
                self._settle(one.request.intent_key, OrderStatus.UNKNOWN, error=str(e))
            return [self._resolve_after_post(one.request.intent_key) for one in signed]
        except RejectedByVenue as e:
            return [
                self._settle(one.request.intent_key, OrderStatus.REJECTED, error=str(e))
                for one in signed
            ]
        except RetryableError as e:  # 425/429: the venue took none of them
            return [
                self._settle(one.request.intent_key, OrderStatus.REJECTED, error=f"not taken: {e}")
                for one in signed
            ]
        results: list[OrderResult] = []
        for one, outcome in zip(signed, outcomes, strict=True):
            key = one.request.intent_key
            if isinstance(outcome, PostOrderAck):
                results.append(self._record_ack(one, outcome))
            elif isinstance(outcome, OutcomeUnknown):
                self._settle(key, OrderStatus.UNKNOWN, error=str(outcome))
                results.append(self._resolve_after_post(key))
            else:
                results.append(self._settle(key, OrderStatus.REJECTED, error=str(outcome)))
        return results

    def _place_one(self, request: OrderRequest) -> OrderResult:
        now = self._clock()
        key = request.intent_key
        spec = intent_spec(
            request, run_id=self._run_id, mode="live", now=now, flow_run_id=self._flow_run_id
        )
        try:
            with session_scope(self._engine) as session:
                create_intent(session, spec)
        except IntentAlreadyExists:
            with session_scope(self._engine) as session:
                row = intent_by_key(session, key)
            return already_exists_result(row, key)
        self._fills.remember_fees(request.condition_id, request.fees)
        refusal = halt_refusal(self._engine, key) or local_refusal(request)
        if refusal is not None:
            return self._settle(key, OrderStatus.REJECTED, error=f"not sent: {refusal}")
        try:
            signed = self._client.sign(request)
        except VenueError as e:  # nothing was posted: only cached reads may have failed
            return self._settle(key, OrderStatus.REJECTED, error=f"not sent: {e}")
        with session_scope(self._engine) as session:
            set_signed(session, key, signed.order_id, at=self._clock())
        return self._post(signed)

    def _post(self, signed: SignedOrder) -> OrderResult:
        key = signed.request.intent_key
        try:
            ack = self._client.post(signed)
        except OutcomeUnknown as e:
            self._settle(key, OrderStatus.UNKNOWN, error=str(e))
            return self._resolve_after_post(key)
        except RejectedByVenue as e:
            return self._settle(key, OrderStatus.REJECTED, error=str(e))
        except RetryableError as e:  # 425/429: the venue did not take the order
            return self._settle(key, OrderStatus.REJECTED, error=f"not taken: {e}")
        return self._record_ack(signed, ack)

    def _record_ack(self, signed: SignedOrder, ack: PostOrderAck) -> OrderResult:
        key = signed.request.intent_key
        if ack.status is None:
            return self._resolve_after_post(key)
        note = None
        try:
            self._fills.store(self._fills.fetch(ack.trade_ids))
        except (VenueError, BadVenueData) as e:  # posted all the same: reconcile reads them
            note = f"posted; fills not read yet ({e})"
        made = self._fills.of_intent(key)
        request = signed.request
        filled = None
        if not made and ack.taking_amount is not None and ack.making_amount is not None:
            filled = ack.taking_amount if request.side is Side.BUY else ack.making_amount
        status = ack.status
        got = filled if filled is not None else sum((f.size for f in made if counts(f)), ZERO)
        if status is OrderStatus.MATCHED and request.order_type is not OrderType.FOK:
            # "matched" means something traded, not everything: a FAK's rest was killed, a
            # marketable GTC/GTD's rest now rests on the book (open, its filled part kept; an
            # unread count leaves it open too, for the lookup to settle).
            rests = request.order_type in (OrderType.GTC, OrderType.GTD)
            if got < request.size or (rests and filled is None and not made):
                status = OrderStatus.LIVE if rests else OrderStatus.CANCELED
        if status is OrderStatus.LIVE and request.order_type.is_marketable_only:
            # A FOK/FAK never rests: "live" here is the venue's "delayed" (a taker delay).
            self._settle(key, OrderStatus.LIVE, error="delayed by the venue", raw=ack)
            return self._await_delayed(key)
        if status is OrderStatus.LIVE:
            self.heartbeat.start()
            self._resting.add(signed.order_id)
        return self._settle(key, status, filled=filled, fills_made=made, error=note, raw=ack)

    def _await_delayed(self, key: str) -> OrderResult:
        """Wait for a marketable order held in the venue's taker delay to match or die.

        It cannot be cancelled while held, so nothing is decided before the venue's answer: the
        order is looked up until it leaves the delay, for at most
        ``PM_DELAYED_ORDER_WAIT_SECONDS``; still held then, it is UNKNOWN for reconcile.
        """
        deadline = time.monotonic() + self._settings.delayed_order_wait_seconds
        while True:
            time.sleep(DELAYED_POLL_SECONDS)
            try:
                result = self._resolve(key, keep_alive=False)
            except (VenueError, BadVenueData):  # unreadable is not an answer: ask again
                result = None
            if result is not None and result.status is not OrderStatus.LIVE:
                return result
            if time.monotonic() >= deadline:
                wait = self._settings.delayed_order_wait_seconds
                return self._settle(
                    key,
                    OrderStatus.UNKNOWN,
                    error=f"still held in the venue's taker delay after {wait} s",
                )

    def _settle(
        self,
        key: str,
        status: OrderStatus,
        *,
        filled: Decimal | None = None,
        fills_made: Sequence[Fill] = (),
        error: str | None = None,
        raw: PostOrderAck | None = None,
    ) -> OrderResult:
        """Store what became of intent ``key`` and return it as a result.

        With fills, the average price and fee come from them (FAILED ones excluded) and so does
        the filled size unless ``filled`` (the venue's own count) is given.
        """
        counted = [f for f in fills_made if counts(f)]
        size = sum((f.size for f in counted), ZERO)
        avg_price = fee = None
        if counted:
            filled = size if filled is None else filled
            avg_price = sum((f.size * f.price for f in counted), ZERO) / size
            fee = sum((f.fee for f in counted), ZERO)
        with session_scope(self._engine) as session:
            row = update_intent(
                session,
                key,
                status=status,
                filled_size=filled,
                avg_price=avg_price,
                fee=fee,
                error=error,
                at=self._clock(),
            )
        result = result_from_row(row)
        if raw is not None:
            result = result.model_copy(update={"raw": raw.model_dump(mode="json")})
        return result

    # --- resolving what is unknown -----------------------------------------------------------
    def resolve(self, intent_key: str) -> OrderResult:
        """Look an intent's order up at the venue and store what it finds (see ``_resolve``).

        Used by reconcile: it never starts heartbeats for orders an earlier run left resting.
        Raises ``VenueError``/``BadVenueData`` when the venue's answers cannot be read or did
        not come; the intent is then left as it was (reconcile reports it).
        """
        return self._resolve(intent_key, keep_alive=False)

    def _resolve_after_post(self, intent_key: str) -> OrderResult:
        """``_resolve`` right after an ambiguous post: a failed lookup leaves it as it was."""
        try:
            return self._resolve(intent_key, keep_alive=True)
        except (VenueError, BadVenueData) as e:
            with session_scope(self._engine) as session:
                row = intent_by_key(session, intent_key)
            assert row is not None  # stored before posting
            return result_from_row(row, error=f"lookup failed, still {row.status}: {e}")

    def _resolve(self, intent_key: str, *, keep_alive: bool) -> OrderResult:
        """Look an intent's order up at the venue and store what it finds.

        The order, when the venue still lists it (``/data/order``, else the open orders), gives
        the status; its trades give the fills (FAILED ones never count). A fully filled FOK/FAK
        may be missing from ``/data/order`` (docs/VENUE.md 2.4): then the trades decide. Only a
        clear "not found" from the lookup, confirmed by the open orders and the trades, means
        the venue never had it: such an order stays UNKNOWN for ``UNKNOWN_GRACE`` and is then
        REJECTED as never placed; so is an intent left PENDING (never signed). An answer that
        cannot be read raises (``VenueError``/``BadVenueData``) and changes nothing: an
        unreadable answer is not a "no". ``keep_alive`` starts heartbeats if it rests.
        """
        with session_scope(self._engine) as session:
            row = intent_by_key(session, intent_key)
        if row is None or row.status.is_terminal:
            return already_exists_result(row, intent_key)
        order_id = row.venue_order_id
        if order_id is None:  # stopped before signing: nothing can have been sent
            if self._clock() - row.updated_at < self._grace:
                return result_from_row(row, error="not signed yet")
            return self._settle(intent_key, OrderStatus.REJECTED, error="never signed or sent")
        order = self._client.get_order(order_id)
        if order is None:  # a clear "not found": the open orders must agree
            order = next(iter(self._client.open_orders(order_id)), None)
        trade_ids = order.trade_ids if order is not None else ()
        if trade_ids:
            found = self._fills.fetch(trade_ids)
        else:
            found = self._fills.after(row.created_at - self._grace)
        self._fills.store(f for f in found if f.order_id == order_id)
        made = self._fills.of_intent(intent_key)
        counted = sum((f.size for f in made if counts(f)), ZERO)
        if order is not None:
            status = order.status
            if status is OrderStatus.LIVE and keep_alive:
                self.heartbeat.start()
                self._resting.add(order_id)
            # The venue's size_matched still counts a trade that failed on chain: take it off.
            failed = sum((f.size for f in made if not counts(f)), ZERO)
            filled = max(order.size_matched - failed, ZERO)
            if status is OrderStatus.MATCHED and row.order_type is OrderType.FAK:
                # A FAK the venue calls matched may have filled in part; the rest was killed.
                status = OrderStatus.MATCHED if filled >= row.size else OrderStatus.CANCELED
            return self._settle(intent_key, status, filled=filled, fills_made=made)
        if made:  # in trades although the lookup missed it: the venue had it
            # Its status is the venue's (matched in full or not); the size filled never
            # counts a trade that failed on chain.
            matched = sum((f.size for f in made), ZERO)
            done = OrderStatus.MATCHED if matched >= row.size else OrderStatus.CANCELED
            return self._settle(intent_key, done, filled=counted, fills_made=made)
        if self._clock() - row.updated_at >= self._grace:
            return self._settle(
                intent_key,
                OrderStatus.REJECTED,
                error="the venue never received the order (not found, not resting, no trade)",
            )
        return result_from_row(row, error="not found at the venue yet; still unresolved")

    # --- fills -----------------------------------------------------------------------------
    def sync_fills(self, since: datetime | None = None) -> list[Fill]:
        """Fetch our trades since ``since`` and re-read stored provisional ones; store all."""
        return self._fills.sync(since)

    # --- the rest of the Executor interface ------------------------------------------------
    def cancel(self, order_id: str) -> bool:
        """Cancel one order at the venue; the intent becomes CANCELED when the venue says so."""
        answer = self._client.cancel(order_id)
        if order_id in answer.canceled:
            self._mark_canceled([order_id])
            return True
        return False

    def cancel_all(self) -> list[str]:
        """Cancel every open order of the wallet."""
        answer = self._client.cancel_all()
        self._mark_canceled(answer.canceled)
        return list(answer.canceled)

    def _mark_canceled(self, order_ids: Iterable[str]) -> None:
        with session_scope(self._engine) as session:
            for order_id in order_ids:
                row = intent_by_order_id(session, order_id)
                if row is not None and not row.status.is_terminal:
                    update_intent(session, row.intent_key, status=OrderStatus.CANCELED)

    def open_orders(self) -> list[OrderSnapshot]:
        """The wallet's resting orders, as the venue lists them."""
        return [self._snapshot(o) for o in self._client.open_orders()]

    def order_status(self, order_id: str) -> OrderSnapshot | None:
        """One order as the venue reports it (None when unknown or gone)."""
        order = self._client.get_order(order_id)
        return self._snapshot(order) if order is not None else None

    def _snapshot(self, order: VenueOrder) -> OrderSnapshot:
        with session_scope(self._engine) as session:
            row = intent_by_order_id(session, order.order_id)
        return OrderSnapshot(
            order_id=order.order_id,
            token_id=order.token_id,
            condition_id=order.condition_id,
            side=order.side,
            price=order.price,
            original_size=order.original_size,
            size_matched=order.size_matched,
            status=order.status,
            intent_key=row.intent_key if row is not None else None,
            created_at=order.created_at,
        )

    def balance(self) -> Decimal:
        """pUSD at the venue (read only: reconcile stores it, ``pm_lib.store.account``)."""
        balance, _ = self._client.collateral()
        return balance

    def holdings(self, token_ids: Iterable[str]) -> dict[str, Decimal]:
        """Shares the venue says the wallet holds, per token."""
        return {token: self._client.shares(token) for token in dict.fromkeys(token_ids)}

    def positions(self) -> dict[str, Position]:
        """Live positions from the stored fills."""
        with session_scope(self._engine) as session:
            return replay(fills(session, "live")).positions

    def unresolved(self) -> list[OrderIntentRow]:
        """Live intents not yet in a terminal status."""
        with session_scope(self._engine) as session:
            return open_intents(session, "live")

    def close(self) -> None:
        """Cancel what this executor left resting (a marketable GTC/GTD's remainder, say) and
        stop heartbeats, so the DB's open orders equal the venue's when the run ends. A cancel
        that fails is left to the venue: without heartbeats it cancels within ~10 s, and
        reconcile records it."""
        for order_id in sorted(self._resting):
            try:
                self.cancel(order_id)
            except (VenueError, BadVenueData) as e:
                logger.warning(
                    "run %s: cancelling %s at close failed: %s", self._run_id, order_id, e
                )
        self._resting.clear()
        self.heartbeat.stop()
        release, self._release_client = self._release_client, None
        if release is not None:
            release()  # a shared client: its window closes it
        else:
            self._client.close()  # its pooled connections; a later call would open new ones
