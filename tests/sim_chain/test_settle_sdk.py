"""Merge and redeem through the real polymarket SDK (0.14.0) over HTTP, per signature type."""

from __future__ import annotations

import pytest

from pm_lib.sim.server import RunningVenue
from tests.sim_chain.chain_helpers import fund, open_client, resolve, units
from tests.sim_exchange.emulated_venue import COND, KEY_A, NO, NR_COND, NR_NO, NR_YES, YES

pytestmark = pytest.mark.timeout(60)
SIG_TYPES = [0, 1, 2]


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_merge_returns_exactly_n_pusd(running: RunningVenue, sig: int) -> None:
    wallet = fund(running, KEY_A, sig, pusd="100", tokens={YES: "12.5", NO: "10"}, approve=True)
    pusd_before = units(running, wallet)
    with open_client(running, KEY_A, sig) as client:
        client.merge_positions(condition_id=COND, amount=7_250_000).wait()
    assert units(running, wallet) == pusd_before + 7_250_000
    assert units(running, wallet, YES) == 12_500_000 - 7_250_000
    assert units(running, wallet, NO) == 10_000_000 - 7_250_000


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_redeem_pays_the_winning_side_and_clears_both(running: RunningVenue, sig: int) -> None:
    wallet = fund(running, KEY_A, sig, pusd="5", tokens={YES: "30", NO: "4"}, approve=True)
    resolve(running, COND, "Yes")
    pusd_before = units(running, wallet)
    with open_client(running, KEY_A, sig) as client:
        client.redeem_positions(condition_id=COND).wait()
    assert units(running, wallet) == pusd_before + 30_000_000
    assert units(running, wallet, YES) == 0
    assert units(running, wallet, NO) == 0


@pytest.mark.parametrize("sig", SIG_TYPES)
def test_neg_risk_redeem_goes_through_the_neg_risk_adapter(running: RunningVenue, sig: int) -> None:
    wallet = fund(running, KEY_A, sig, tokens={NR_YES: "3", NR_NO: "8.5"}, approve=True)
    resolve(running, NR_COND, "No")
    pusd_before = units(running, wallet)
    with open_client(running, KEY_A, sig) as client:
        client.redeem_positions(condition_id=NR_COND).wait()
    assert units(running, wallet) == pusd_before + 8_500_000
    assert units(running, wallet, NR_YES) == units(running, wallet, NR_NO) == 0
