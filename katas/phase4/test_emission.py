"""Task 4.3: windows close on event time, in order, each exactly once."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katas.phase4.aggregation import WindowStats, add_reading
from katas.phase4.emission import (
    advance_horizon,
    consensus_horizon,
    idle_horizon,
    split_closed,
)
from katas.phase4.windows import Window

START = 1_700_000_040.0  # a whole multiple of 60


def stats_for(start: float) -> WindowStats:
    return add_reading(None, Window(start, start + 60.0), 20.0)


def test_the_horizon_follows_event_time_minus_grace() -> None:
    # Event time from last year: a wall clock would put the horizon at "now - grace".
    got = advance_horizon(0.0, 1_600_000_070.0, 10.0)
    assert got == 1_600_000_060.0, (
        f"advance_horizon(0.0, timestamp=1_600_000_070.0, grace=10.0) returned {got}; expected "
        "1_600_000_060.0 (the reading's own timestamp minus the grace, not the wall clock)"
    )


def test_the_horizon_never_moves_back() -> None:
    got = advance_horizon(1_700_000_100.0, 1_700_000_050.0, 10.0)
    assert got == 1_700_000_100.0, (
        f"advance_horizon(1_700_000_100.0, 1_700_000_050.0, 10.0) returned {got}; expected "
        "1_700_000_100.0: an older reading must not re-open what is closed"
    )


def test_a_window_closes_when_the_horizon_reaches_its_end() -> None:
    windows = [stats_for(START + 60.0), stats_for(START)]
    closed, still_open = split_closed(windows, START + 60.0)
    got = ([s.start for s in closed], [s.start for s in still_open])
    expected = ([START], [START + 60.0])
    assert got == expected, (
        f"split_closed(windows starting {sorted(s.start for s in windows)}, horizon="
        f"{START + 60.0}) gave starts (closed, still open) = {got}; expected {expected}"
    )


def test_both_lists_come_out_in_start_order_whatever_the_order_in() -> None:
    steps = [5, 1, 4, 0, 3, 2]
    closed, still_open = split_closed([stats_for(START + 60.0 * n) for n in steps], START + 180.0)
    got = ([(s.start - START) / 60 for s in closed], [(s.start - START) / 60 for s in still_open])
    expected = ([0.0, 1.0, 2.0], [3.0, 4.0, 5.0])
    assert got == expected, (
        f"split_closed(windows at steps {steps}, horizon at step 3) gave steps (closed, still "
        f"open) = {got}; expected {expected}: each list ordered by start (the agent writes the "
        "still-open list back, and emits the closed ones in that order)"
    )


def test_nothing_closes_before_its_end() -> None:
    closed, still_open = split_closed([stats_for(START)], START + 59.999)
    assert (len(closed), len(still_open)) == (0, 1), (
        f"a window ending at {START + 60.0} closed at horizon {START + 59.999}: "
        f"closed={closed}, still_open={still_open}"
    )


def test_a_quiet_partition_closes_every_open_window() -> None:
    windows = [stats_for(START), stats_for(START + 120.0)]
    horizon = idle_horizon(START - 5.0, windows)
    closed, still_open = split_closed(windows, horizon)
    assert len(closed) == 2 and not still_open, (
        f"idle_horizon(...) returned {horizon}, which closes {len(closed)} of 2 open windows; "
        "expected every open window to close"
    )
    assert idle_horizon(START + 500.0, windows) == START + 500.0, (
        "idle_horizon must never move the horizon back"
    )


@given(
    starts=st.sets(st.integers(min_value=0, max_value=50), max_size=12),
    horizon_steps=st.integers(min_value=-1, max_value=52),
)
def test_every_window_is_closed_or_open_never_both(starts: set[int], horizon_steps: int) -> None:
    windows = [stats_for(START + 60.0 * step) for step in starts]
    horizon = START + 60.0 * horizon_steps
    closed, still_open = split_closed(windows, horizon)
    got = sorted([s.start for s in closed] + [s.start for s in still_open])
    expected = sorted(s.start for s in windows)
    assert got == expected, (
        f"split_closed(...) returned {len(closed)} closed + {len(still_open)} open windows for "
        f"{len(windows)} windows; expected every window in exactly one list"
    )
    assert all(s.end <= horizon for s in closed) and all(s.end > horizon for s in still_open), (
        f"at horizon {horizon}: closed ends {[s.end for s in closed]}, open ends "
        f"{[s.end for s in still_open]}; expected closed <= horizon < open"
    )
    assert [s.start for s in closed] == sorted(s.start for s in closed), (
        "closed windows must come out in start order"
    )


@pytest.mark.parametrize(
    ("horizons", "quorum", "expected", "why"),
    [
        (
            [500.0, 100.0, 120.0],
            2,
            120.0,
            "the second furthest: the one sensor at 500 alone is ignored",
        ),
        ([100.0, 500.0], 2, 100.0, "two sensors: the one behind"),
        ([500.0], 2, 0.0, "one sensor is no quorum of 2: no consensus yet"),
        ([], 2, 0.0, "no sensor: no consensus"),
        ([500.0, 100.0, 120.0], 1, 500.0, "a quorum of 1: the furthest sensor decides alone"),
        ([500.0, 100.0, 120.0], 3, 100.0, "a quorum of 3: every one of them"),
        ([300.0, 300.0, 10.0], 2, 300.0, "two sensors at the same horizon are two sensors"),
    ],
)
def test_the_consensus_is_what_a_quorum_of_sensors_reached(
    horizons: list[float], quorum: int, expected: float, why: str
) -> None:
    got = consensus_horizon(iter(horizons), quorum)
    assert got == expected, (
        f"consensus_horizon({horizons}, quorum={quorum}) returned {got}; expected {expected} "
        f"({why})"
    )


@given(
    horizons=st.lists(st.integers(min_value=0, max_value=1000).map(float), max_size=8),
    quorum=st.integers(min_value=1, max_value=4),
    jump=st.integers(min_value=1, max_value=10**6),
)
def test_one_sensor_jumping_ahead_never_moves_a_consensus_of_two_or_more(
    horizons: list[float], quorum: int, jump: int
) -> None:
    before = consensus_horizon(horizons, quorum)
    after = consensus_horizon([*horizons, max(horizons, default=0.0) + jump], quorum)
    reached = sorted(horizons, reverse=True)[: quorum - 1]
    expected = reached[-1] if quorum > 1 and len(reached) == quorum - 1 else None
    if quorum > 1:
        assert after == (expected if expected is not None else 0.0), (
            f"with sensors at {horizons}, one more sensor jumping to "
            f"{max(horizons, default=0.0) + jump} moved consensus_horizon(..., quorum={quorum}) "
            f"from {before} to {after}; expected {expected if expected is not None else 0.0}: "
            "the jumping sensor counts as one, and one is not a quorum"
        )
    assert after >= before, (
        f"adding a sensor moved the consensus back, from {before} to {after}; a horizon never "
        "moves back"
    )
