"""Market identity for people: a token, a condition id or a neg-risk group id as a ``MarketLabel``
(question, outcome, event title, link to the market page).

One owner for every table that names a market (the CLI, the run summary, Prefect artifacts):

    labels = read_labels(session, condition_ids=[...])       # from the stored catalogue
    labels = MarketLabels.of_catalogue(catalogue)             # from a catalogue in memory
    labels.token(token_id, condition_id).text                 # "Will X? - Yes"

The stored catalogue keeps what Gamma gave (market question and slug, outcome names and token
ids, event title and slug), closed markets included, so positions in markets that have since
closed are still named. An id the catalogue does not know gets a label that shows the id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pm_lib.models import Catalogue, Event, Market

__all__ = ["MARKET_PAGE", "MarketLabel", "MarketLabels", "market_url", "read_labels"]

MARKET_PAGE = "https://polymarket.com"


def market_url(event_slug: str | None, market_slug: str | None) -> str:
    """The Polymarket page of a market: its event's page when the event is known, else the
    market's own page (``""`` when neither slug is known)."""
    if event_slug:
        return f"{MARKET_PAGE}/event/{event_slug}"
    if market_slug:
        return f"{MARKET_PAGE}/market/{market_slug}"
    return ""


def _short_id(ident: str) -> str:
    return ident if len(ident) <= 14 else f"{ident[:8]}…{ident[-4:]}"


@dataclass(frozen=True)
class MarketLabel:
    """What a person needs to recognise a market (or one outcome of it)."""

    ident: str
    question: str
    outcome: str = ""
    event_title: str = ""
    url: str = ""
    known: bool = True

    @property
    def text(self) -> str:
        """``question - outcome`` (the question alone for a whole market)."""
        return f"{self.question} - {self.outcome}" if self.outcome else self.question

    def as_json(self) -> dict[str, str]:
        return {
            "question": self.question,
            "outcome": self.outcome,
            "event_title": self.event_title,
            "url": self.url,
        }


def _unknown(ident: str) -> MarketLabel:
    return MarketLabel(ident=ident, question=f"unknown market {_short_id(ident)}", known=False)


class MarketLabels:
    """Labels over a set of markets and events (see the module doc for how to build one)."""

    def __init__(self, markets: Iterable[Market], events: Iterable[Event]) -> None:
        self._markets = {m.condition_id: m for m in markets}
        self._events = {e.event_id: e for e in events}
        self._by_token = {
            o.token_id: (m, o.name) for m in self._markets.values() for o in m.outcomes
        }
        self._groups = {
            e.neg_risk_market_id: e for e in self._events.values() if e.neg_risk_market_id
        }

    @classmethod
    def of_catalogue(
        cls,
        catalogue: Catalogue | None,
        condition_ids: Iterable[str] | None = None,
        group_ids: Iterable[str] = (),
    ) -> MarketLabels:
        """Labels from an in-memory catalogue: all of it, or only the given markets and
        neg-risk groups (cheap on a 50,000-market catalogue)."""
        if catalogue is None:
            return cls((), ())
        if condition_ids is None:
            return cls(catalogue.markets, catalogue.events)
        wanted, groups = set(condition_ids), set(group_ids)
        markets = [m for m in catalogue.markets if m.condition_id in wanted]
        event_ids = {m.event_id for m in markets if m.event_id} | groups
        events = [
            e
            for e in catalogue.events
            if e.event_id in event_ids or (e.neg_risk_market_id or "") in groups
        ]
        return cls(markets, events)

    def _of_market(self, market: Market, outcome: str = "") -> MarketLabel:
        event = self._events.get(market.event_id or "")
        return MarketLabel(
            ident=market.condition_id,
            question=market.question,
            outcome=outcome,
            event_title=event.title if event else "",
            url=market_url(event.slug if event else None, market.slug),
        )

    def token(self, token_id: str, condition_id: str | None = None) -> MarketLabel:
        """One outcome token: its market's question, the outcome's name, the event."""
        found = self._by_token.get(token_id)
        if found is not None:
            return self._of_market(found[0], found[1])
        if condition_id and condition_id in self._markets:
            return self._of_market(self._markets[condition_id], f"token {token_id[-8:]}")
        return _unknown(token_id)

    def market(self, ident: str) -> MarketLabel:
        """A condition id, or a neg-risk group id (labelled by its event's title)."""
        if ident in self._markets:
            return self._of_market(self._markets[ident])
        event = self._groups.get(ident) or self._events.get(ident)
        if event is not None:
            return MarketLabel(
                ident=ident,
                question=event.title,
                event_title=event.title,
                url=market_url(event.slug, None),
            )
        return _unknown(ident)


def read_labels(
    session: Session,
    *,
    condition_ids: Iterable[str] = (),
    group_ids: Iterable[str] = (),
) -> MarketLabels:
    """Labels for the given markets (and neg-risk groups) from the stored catalogue, closed
    markets included. Reads only; two small queries."""
    # Imported here: the store's tables pull SQLModel, which the labels of an in-memory
    # catalogue never need.
    from pm_lib.store.catalogue import market_rows_for
    from pm_lib.store.tables import CatalogueEvent

    conditions = sorted(set(condition_ids))
    groups = sorted(set(group_ids))
    markets = market_rows_for(session, conditions) if conditions else []
    event_ids = sorted({m.event_id for m in markets if m.event_id})
    table = CatalogueEvent.__table__  # type: ignore[attr-defined]
    clauses = []
    if event_ids:
        clauses.append(table.c.event_id.in_(event_ids))
    if groups:
        clauses.append(table.c.neg_risk_market_id.in_(groups))
        clauses.append(table.c.event_id.in_(groups))
    events: list[Event] = []
    if clauses:
        rows = session.execute(
            select(table.c.event_id, table.c.title, table.c.slug, table.c.neg_risk_market_id).where(
                or_(*clauses)
            )
        )
        events = [
            Event(
                event_id=r.event_id,
                title=r.title,
                slug=r.slug,
                neg_risk_market_id=r.neg_risk_market_id,
            )
            for r in rows
        ]
    return MarketLabels(markets, events)
