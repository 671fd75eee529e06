"""When a scan loop starts its next scan (pure): hand-computed cases and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.scan_loop import MAX_DURATION_SECONDS, check_loop_parameters, next_scan_at
from pm_lib.errors import ConfigurationError


def test_a_fast_scan_waits_for_its_interval() -> None:
    # started at 10.0, done at 11.2, every 5 s: the next starts at 15.0
    assert next_scan_at(10.0, 11.2, 5.0, deadline=100.0, scans_done=1, max_scans=None) == 15.0


def test_a_slow_scan_is_followed_at_once() -> None:
    assert next_scan_at(10.0, 17.5, 5.0, deadline=100.0, scans_done=1, max_scans=None) == 17.5


def test_interval_zero_is_back_to_back() -> None:
    assert next_scan_at(10.0, 10.3, 0.0, deadline=100.0, scans_done=3, max_scans=None) == 10.3


def test_no_scan_starts_at_or_after_the_deadline() -> None:
    assert next_scan_at(90.0, 91.0, 10.0, deadline=100.0, scans_done=1, max_scans=None) is None
    assert next_scan_at(90.0, 91.0, 9.0, deadline=100.0, scans_done=1, max_scans=None) == 99.0


def test_max_scans_ends_the_loop() -> None:
    assert next_scan_at(0.0, 1.0, 0.0, deadline=100.0, scans_done=3, max_scans=3) is None
    assert next_scan_at(0.0, 1.0, 0.0, deadline=100.0, scans_done=2, max_scans=3) == 1.0


@given(
    started=st.floats(0, 1e6),
    took=st.floats(0, 1e3),
    interval=st.floats(0, 1e3),
    duration=st.floats(1e-3, MAX_DURATION_SECONDS),
)
def test_the_next_scan_is_never_early_nor_past_the_deadline(
    started: float, took: float, interval: float, duration: float
) -> None:
    now = started + took
    deadline = started + duration
    start = next_scan_at(started, now, interval, deadline, scans_done=1, max_scans=None)
    if start is None:
        assert max(now, started + interval) >= deadline
    else:
        assert start >= now and start >= started + interval and start < deadline


@pytest.mark.parametrize(
    ("duration", "interval", "publish_every", "max_scans"),
    [
        (0.0, 5.0, 30.0, None),
        (-1.0, 5.0, 30.0, None),
        (MAX_DURATION_SECONDS + 1, 5.0, 30.0, None),
        (60.0, -1.0, 30.0, None),
        (60.0, 5.0, -1.0, None),
        (60.0, 5.0, 30.0, 0),
    ],
)
def test_bad_loop_parameters_are_refused(
    duration: float, interval: float, publish_every: float, max_scans: int | None
) -> None:
    with pytest.raises(ConfigurationError):
        check_loop_parameters(duration, interval, publish_every, max_scans)
