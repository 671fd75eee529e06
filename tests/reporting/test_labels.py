"""MarketLabel: token / condition / neg-risk group ids named from the stored catalogue."""

from __future__ import annotations

from pathlib import Path

from pm_lib.reporting.labels import MarketLabels, market_url, read_labels
from pm_lib.store.catalogue import save_catalogue
from pm_lib.store.engine import make_engine, session_scope, upgrade
from tests.store.samples import catalogue, event, market


def test_a_token_is_named_by_question_outcome_event_and_page() -> None:
    cat = catalogue([1, 2], events=(event("ev-1", ("0xcond0001", "0xcond0002")),))
    labels = MarketLabels.of_catalogue(cat)

    yes = labels.token(market(1).outcomes[0].token_id)

    assert yes.question == "Will outcome 1 happen?"
    assert yes.outcome == "Yes"
    assert yes.event_title == "Event ev-1"
    assert yes.url == "https://polymarket.com/event/ev-1"
    assert yes.text == "Will outcome 1 happen? - Yes"
    # a neg-risk group id is named by its event
    assert labels.market("0xgroup").question == "Event ev-1"


def test_unknown_ids_show_the_id_and_a_market_without_event_links_its_own_page() -> None:
    labels = MarketLabels.of_catalogue(catalogue([1]))

    assert labels.token("999").known is False
    assert "999" in labels.token("999").question
    assert labels.market("0xcond0001").url == "https://polymarket.com/market/outcome-1"
    assert market_url(None, None) == ""


def test_read_labels_reads_closed_markets_from_the_store(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    first = catalogue([1], events=(event("ev-1", ("0xcond0001",)),))
    with session_scope(engine) as session:
        save_catalogue(session, first)
        # a later full listing without market 1: it is closed, positions may still hold it
        save_catalogue(session, catalogue([2], fetched_at=first.fetched_at.replace(hour=13)))
    with session_scope(engine, read_only=True) as session:
        labels = read_labels(session, condition_ids=["0xcond0001"], group_ids=["0xgroup"])

    no = labels.token(market(1).outcomes[1].token_id, "0xcond0001")
    assert (no.question, no.outcome, no.event_title) == (
        "Will outcome 1 happen?",
        "No",
        "Event ev-1",
    )
    assert labels.market("0xgroup").event_title == "Event ev-1"
