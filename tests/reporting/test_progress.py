"""The progress pacer publishes few, monotonic updates and leaves 100% to the caller."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pm_lib.reporting.progress import PacedProgress, ProgressPacer


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


class _Bar:
    """A fake UI: records every call, can be told to fail."""

    def __init__(self, fail_create: bool = False, fail_update: bool = False) -> None:
        self.calls: list[tuple[str, float]] = []
        self.fail_create = fail_create
        self.fail_update = fail_update

    async def create(self, percent: float) -> str:
        await asyncio.sleep(0)
        self.calls.append(("create", percent))
        if self.fail_create:
            raise RuntimeError("API down")
        return "bar-1"

    async def update(self, bar: str, percent: float) -> None:
        await asyncio.sleep(0)
        assert bar == "bar-1"
        self.calls.append(("update", percent))
        if self.fail_update:
            raise RuntimeError("API down")


def _run_stage(bar: _Bar, chunks: list[tuple[float, int]], total: int) -> PacedProgress:
    async def stage() -> PacedProgress:
        clock = _Clock()
        progress = PacedProgress(bar.create, bar.update, ProgressPacer(clock=clock))
        done = 0
        for seconds, more in chunks:
            clock.now += seconds
            done += more
            progress.on_progress(done, total)
            await asyncio.sleep(0)
        await progress.finish()
        return progress

    return asyncio.run(stage())


def test_a_stage_shorter_than_the_interval_makes_no_bar() -> None:
    bar = _Bar()
    progress = _run_stage(bar, [(0.1, 500)] * 4, 2000)
    assert bar.calls == []
    assert not progress.created


def test_a_long_stage_makes_its_bar_late_moves_it_in_order_and_ends_at_100() -> None:
    bar = _Bar()
    progress = _run_stage(bar, [(0.4, 500)] * 10, 5000)  # 4 s in ten chunks
    assert progress.created
    assert bar.calls == [("create", 30.0), ("update", 60.0), ("update", 90.0), ("update", 100.0)]


@pytest.mark.parametrize("failing", ["create", "update"])
def test_a_failing_ui_never_fails_the_stage(failing: str) -> None:
    bar = _Bar(fail_create=failing == "create", fail_update=failing == "update")
    progress = _run_stage(bar, [(0.4, 500)] * 10, 5000)
    assert progress.created
    assert bar.calls[0] == ("create", 30.0)
