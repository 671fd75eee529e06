"""The progress pacer publishes few, monotonic updates and leaves 100% to the caller."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pm_lib.reporting.progress import ProgressPacer


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_fast_stage_publishes_nothing_before_its_end() -> None:
    clock = _Clock()
    pacer = ProgressPacer(min_interval=1.0, clock=clock)
    clock.now = 0.3  # four chunks arrive within a third of a second
    assert [pacer.update(done, 2000) for done in (500, 1000, 1500)] == [None, None, None]


def test_a_slow_stage_publishes_at_most_once_an_interval() -> None:
    clock = _Clock()
    pacer = ProgressPacer(min_interval=1.0, min_step=10.0, clock=clock)
    published = []
    for done in range(10, 100, 10):  # a tenth of the books every 0.25 s
        clock.now += 0.25
        value = pacer.update(done, 100)
        if value is not None:
            published.append((clock.now, value))
    assert published == [(1.0, 40.0), (2.0, 80.0)]


def test_a_stage_moving_slowly_publishes_every_step() -> None:
    clock = _Clock()
    pacer = ProgressPacer(min_interval=1.0, min_step=10.0, clock=clock)
    published = []
    for done in range(1, 100):  # one percent every 0.25 s
        clock.now += 0.25
        value = pacer.update(done, 100)
        if value is not None:
            published.append(value)
    assert published == [10.0 * k for k in range(1, 10)]


def test_a_small_move_is_not_published_even_when_the_interval_passed() -> None:
    clock = _Clock()
    pacer = ProgressPacer(min_interval=1.0, min_step=10.0, clock=clock)
    clock.now = 5.0
    assert pacer.update(5, 100) is None
    assert pacer.update(10, 100) == 10.0


def test_the_end_and_an_empty_stage_are_left_to_the_caller() -> None:
    pacer = ProgressPacer(min_interval=0.0, min_step=1.0)
    assert pacer.update(10, 10) is None
    assert pacer.update(0, 0) is None


def test_bad_pacing_is_refused() -> None:
    with pytest.raises(ValueError, match="min_step"):
        ProgressPacer(min_step=0)


@given(st.lists(st.tuples(st.floats(0, 5), st.integers(0, 1000)), max_size=60))
def test_published_values_rise_by_a_step_and_are_spaced_by_the_interval(
    steps: list[tuple[float, int]],
) -> None:
    clock = _Clock()
    pacer = ProgressPacer(min_interval=1.0, min_step=10.0, clock=clock)
    published: list[tuple[float, float]] = []
    done = 0
    for dt, more in steps:
        clock.now += dt
        done = min(1000, done + more)
        value = pacer.update(done, 1000)
        if value is not None:
            published.append((clock.now, value))
    previous_time, previous = 0.0, 0.0
    for at, value in published:
        assert value - previous >= 10.0
        assert at - previous_time >= 1.0
        assert value < 100.0
        previous_time, previous = at, value
