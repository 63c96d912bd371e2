"""Task 4.1: every timestamp falls in exactly one window, aligned to the window size."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from katas.phase4.windows import Window, window_for

BOUNDARY = 1_700_000_040.0  # a whole multiple of 60: one window ends here, the next starts


def test_a_window_is_aligned_to_its_size() -> None:
    got = window_for(1_700_000_005.0, 60.0)
    expected = Window(1_699_999_980.0, 1_700_000_040.0)
    assert got == expected, (
        f"window_for(1_700_000_005.0, 60.0) returned {got}; expected {expected} "
        "(windows start at whole multiples of the size since the epoch)"
    )


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (BOUNDARY - 0.001, Window(BOUNDARY - 60.0, BOUNDARY)),
        (BOUNDARY, Window(BOUNDARY, BOUNDARY + 60.0)),
        (BOUNDARY + 59.999, Window(BOUNDARY, BOUNDARY + 60.0)),
        (BOUNDARY + 60.0, Window(BOUNDARY + 60.0, BOUNDARY + 120.0)),
    ],
)
def test_the_start_is_inside_and_the_end_is_not(timestamp: float, expected: Window) -> None:
    got = window_for(timestamp, 60.0)
    assert got == expected, (
        f"window_for({timestamp}, 60.0) returned {got}; expected {expected} "
        "(start <= timestamp < end: a reading exactly at the end belongs to the next window)"
    )


@pytest.mark.parametrize("size", [1.0, 10.0, 120.0])  # each divides BOUNDARY
def test_the_size_argument_is_used(size: float) -> None:
    got = window_for(BOUNDARY + 0.5, size)
    assert got == Window(BOUNDARY, BOUNDARY + size), (
        f"window_for({BOUNDARY + 0.5}, {size}) returned {got}; expected a window of {size} s "
        f"starting at {BOUNDARY}"
    )


@given(
    millis=st.integers(min_value=0, max_value=4_000_000_000_000),
    size=st.sampled_from([0.25, 1.0, 7.5, 10.0, 60.0, 3600.0]),
)
def test_every_timestamp_is_in_exactly_one_aligned_window(millis: int, size: float) -> None:
    timestamp = millis / 1000
    window = window_for(timestamp, size)
    assert window.start <= timestamp < window.end, (
        f"window_for({timestamp}, {size}) returned {window}, which does not hold the timestamp"
    )
    assert window.end - window.start == size, f"{window} is not {size} s long"
    assert (window.start / size).is_integer(), (
        f"{window} does not start at a whole multiple of {size}"
    )
    # Exactly one: the neighbouring windows do not hold the timestamp.
    before, after = window_for(window.start - size / 2, size), window_for(window.end, size)
    assert before.end == window.start and after.start == window.end, (
        f"the windows around {window} are {before} and {after}; expected them to touch it"
    )


@given(
    millis=st.integers(min_value=0, max_value=4_000_000_000_000),
    size=st.sampled_from([0.1, 0.3, 0.7]),
)
@example(millis=1_700, size=0.1).via("1.7 / 0.1 is 17.0, but 17 * 0.1 is 1.7000000000000002")
@example(millis=3_400, size=0.1).via("3.4 / 0.1 rounds up to 34.0 too")
def test_a_size_binary_floats_cannot_hold_still_gives_each_timestamp_one_window(
    millis: int, size: float
) -> None:
    # 0.1 has no exact binary float: start = index * size is computed, not exact, and
    # math.floor(timestamp / size) can name a window that starts after the timestamp.
    timestamp = millis / 1000
    window = window_for(timestamp, size)
    assert window.start <= timestamp < window.end, (
        f"window_for({timestamp}, {size}) returned {window}, which does not hold the timestamp: "
        "math.floor(timestamp / size) alone can land one window off; check start <= timestamp "
        "< end and correct the index"
    )
    before, after = window_for(window.start - size / 2, size), window_for(window.end, size)
    assert before.end == window.start and after.start == window.end, (
        f"the windows around {window} are {before} and {after}; expected them to touch it "
        f"(every window of size {size} is [index * size, (index + 1) * size))"
    )
