"""Incomplete events: Gamma event objects whose nested ``markets`` list leaves legs out.

Live, an event's nested ``markets`` list may omit outcomes that the markets listing still carries
under the same ``negRiskMarketID`` (docs/VENUE.md 7, "Neg-risk traps"). The emulator reproduces it
on demand: the left-out legs stay listed, quoted and tradable everywhere else (``/markets``,
books, orders); only the ``markets`` array of the event objects (``/events/keyset``,
``/events/{id}``, ``/events/slug/{slug}``, ``/events``) lacks them.

Two ways to ask for it (``POST /_sim/incomplete-events``, docs/EMULATOR.md):

- by event: ``omit`` lists the condition ids to leave out (default: the favourite, the leg with
  the highest YES price now, the most dangerous one to miss);
- by rate: each neg-risk event with at least two legs leaves out one leg (drawn from the seed and
  the event id, so the same seed always spoils the same events) with probability ``rate``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pm_lib.sim.state import SimEvent

__all__ = ["EventOmissions"]


@dataclass
class EventOmissions:
    """Which legs each event's nested ``markets`` list leaves out."""

    seed: int = 0
    rate: float = 0.0
    by_event: dict[str, frozenset[str]] = field(default_factory=dict)

    def omit(self, event_id: str, condition_ids: frozenset[str]) -> None:
        """Leave ``condition_ids`` out of ``event_id``'s list (an empty set restores it)."""
        if condition_ids:
            self.by_event[event_id] = condition_ids
        else:
            self.by_event.pop(event_id, None)

    def clear(self) -> None:
        self.by_event.clear()
        self.rate = 0.0

    def hidden(self, event: SimEvent) -> frozenset[str]:
        """The legs ``event``'s nested list leaves out now."""
        explicit = self.by_event.get(event.event_id)
        if explicit is not None:
            return explicit
        if self.rate <= 0 or not event.neg_risk or len(event.condition_ids) < 2:
            return frozenset()
        draw = random.Random(f"{self.seed}:incomplete-event:{event.event_id}")
        if draw.random() >= self.rate:
            return frozenset()
        return frozenset({event.condition_ids[draw.randrange(len(event.condition_ids))]})

    def as_json(self, events: dict[str, SimEvent]) -> dict[str, object]:
        """The explicit omissions, the rate, and every event the rate spoils now."""
        drawn = {}
        if self.rate > 0:
            drawn = {
                e.event_id: sorted(self.hidden(e))
                for e in events.values()
                if e.event_id not in self.by_event and self.hidden(e)
            }
        return {
            "rate": self.rate,
            "events": {k: sorted(v) for k, v in self.by_event.items()},
            "drawn": drawn,
        }
