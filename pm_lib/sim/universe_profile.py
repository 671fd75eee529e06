"""Calibration of the generated universe: the shapes of the recorded live venue, as numbers.

Every figure below comes from our profile of public recordings of the live venue (2,100 Gamma
market snapshots, 59 complete events, top-of-book data; docs/EMULATOR.md, "Where the
calibration comes from") or from the live samples quoted in
``docs/VENUE.md`` (sections 4.1, 4.4 and 7). The generator in
``pm_lib.sim.universe`` draws from these tables; ``tests/sim_data`` checks the drawn shares
against them. The generator may use floats to draw; everything on the wire is quantised Decimal.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "CATEGORIES",
    "FEE_SCHEDULES",
    "NEG_RISK_SHARE",
    "FeeSchedule",
    "draw_binary_fair",
    "draw_group_size",
    "draw_group_weights",
    "draw_spread_ticks",
    "draw_tick",
    "draw_touch_size",
]

TICK_FINE = Decimal("0.001")
TICK_COARSE = Decimal("0.01")

# PROFILE A: neg-risk share 1612/2100 = 76.8% of market snapshots.
NEG_RISK_SHARE = 0.77
# docs/VENUE.md 7: about a third of markets charge taker fees since "Fee Structure V2".
FEES_ENABLED_SHARE = 1 / 3
# PROFILE A: 2.3% closed-ish / not accepting rows are rare; keep a few of each.
CLOSED_SHARE = 0.01
NOT_ACCEPTING_SHARE = 0.01
ENDING_WITHIN_HOUR_SHARE = 0.02
# PROFILE B: 5 of 23 neg-risk events were "augmented" with placeholder / closed legs.
AUGMENTED_SHARE = 0.2


@dataclass(frozen=True)
class FeeSchedule:
    """One live ``feeType`` with its ``feeSchedule`` (docs/VENUE.md 4.4, live captures)."""

    fee_type: str
    rate: Decimal
    exponent: int
    rebate_rate: Decimal


POLITICS_FEES = FeeSchedule("politics_fees", Decimal("0.04"), 1, Decimal("0.25"))
SPORTS_FEES = FeeSchedule("sports_fees_v3", Decimal("0.05"), 1, Decimal("0.15"))
CRYPTO_FEES = FeeSchedule("crypto_fees", Decimal("0.07"), 1, Decimal("0.2"))
CRYPTO_5M_FEES = FeeSchedule("crypto_fees", Decimal("0.25"), 2, Decimal("0.2"))
ECONOMICS_FEES = FeeSchedule("economics_fees", Decimal("0.05"), 1, Decimal("0.25"))

# category -> (share of events, fee schedule when fees are enabled)
CATEGORIES: dict[str, tuple[float, FeeSchedule]] = {
    "politics": (0.35, POLITICS_FEES),
    "sports": (0.30, SPORTS_FEES),
    "crypto": (0.20, CRYPTO_FEES),
    "economics": (0.15, ECONOMICS_FEES),
}
FEE_SCHEDULES = (POLITICS_FEES, SPORTS_FEES, CRYPTO_FEES, CRYPTO_5M_FEES, ECONOMICS_FEES)

# PROFILE A/B: legs per neg-risk group. Complete events: 7..36 legs; page groups p50 10..17;
# a 2026-03 page had many 2-3 leg groups. (size, weight)
_GROUP_SIZES: tuple[tuple[int, float], ...] = (
    (2, 0.07),
    (3, 0.06),
    (4, 0.04),
    (5, 0.04),
    (6, 0.04),
    (7, 0.04),
    (8, 0.05),
    (9, 0.05),
    (10, 0.07),
    (11, 0.08),
    (12, 0.07),
    (13, 0.04),
    (15, 0.07),
    (17, 0.05),
    (19, 0.03),
    (20, 0.04),
    (23, 0.04),
    (30, 0.04),
    (31, 0.02),
    (35, 0.02),
    (36, 0.01),
)

# PROFILE A: spread in ticks p10..p50 = 1 (57.2% one tick), p75 = 3, p90 = 10, p99 = 82;
# in price: 80.6% <= 0.01, p90 0.02. Fine-tick (0.001) markets carry the wide tail.
_SPREAD_TICKS_FINE: tuple[tuple[float, int, int], ...] = (
    (0.56, 1, 1),
    (0.70, 2, 2),
    (0.76, 3, 3),
    (0.82, 4, 6),
    (0.91, 7, 10),
    (0.99, 11, 40),
    (1.00, 41, 100),
)
_SPREAD_TICKS_COARSE: tuple[tuple[float, int, int], ...] = (
    (0.62, 1, 1),
    (0.88, 2, 2),
    (0.97, 3, 5),
    (1.00, 6, 15),
)


def draw_group_size(rng: random.Random) -> int:
    """Number of legs of a neg-risk event."""
    sizes, weights = zip(*_GROUP_SIZES, strict=True)
    return int(rng.choices(sizes, weights=weights)[0])


def draw_group_weights(rng: random.Random, legs: int) -> list[float]:
    """Fair YES probabilities of a group's legs, summing to 1.

    Live groups have one to three favourites and a long tail under 5 cents (PROFILE A: two
    thirds of YES prices are below 0.05 or above 0.95), so weights are heavy-tailed.
    """
    raw = [rng.paretovariate(0.7) for _ in range(legs)]
    total = sum(raw)
    return [w / total for w in raw]


def draw_binary_fair(rng: random.Random) -> float:
    """Fair YES probability of a standalone binary market, piled near 0 and 1."""
    u = rng.random()
    if u < 0.40:
        return rng.uniform(0.0003, 0.05)
    if u < 0.58:
        return rng.uniform(0.95, 0.9995)
    return rng.uniform(0.05, 0.95)


def draw_tick(rng: random.Random, fair: float) -> Decimal:
    """Minimum tick: 0.001 on 75% of markets, 0.01 mostly on mid-range prices (PROFILE A)."""
    mid_range = 0.04 <= fair <= 0.96
    coarse_share = 0.5 if mid_range else 0.07
    return TICK_COARSE if rng.random() < coarse_share else TICK_FINE


def draw_spread_ticks(rng: random.Random, tick: Decimal) -> int:
    """Quoted spread in ticks (PROFILE A distribution)."""
    table = _SPREAD_TICKS_FINE if tick == TICK_FINE else _SPREAD_TICKS_COARSE
    u = rng.random()
    for cumulative, low, high in table:
        if u <= cumulative:
            return rng.randint(low, high)
    return 1


def draw_touch_size(rng: random.Random, scale: float) -> float:
    """Shares resting at the best level: lognormal around ``scale`` (PROFILE D: p10 ~20-80,
    p50 ~145-1215, p90 ~840-1830)."""
    return scale * math.exp(rng.gauss(0.0, 1.1))
