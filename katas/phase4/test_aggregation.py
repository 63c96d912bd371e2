"""Task 4.2: a window's statistics are exact: count, min, max and the average of all readings."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from app.models import WindowAggregate
from katas.phase4.aggregation import WindowStats, add_reading, to_aggregate
from katas.phase4.windows import Window

WINDOW = Window(1_700_000_040.0, 1_700_000_100.0)


def fold(temperatures: list[float]) -> WindowStats:
    stats: WindowStats | None = None
    for temperature in temperatures:
        stats = add_reading(stats, WINDOW, temperature)
    assert stats is not None, "fold() needs at least one temperature"
    return stats


def test_three_readings_give_exact_statistics() -> None:
    temperatures = [10.0, 20.0, 60.0]
    aggregate = to_aggregate("sensor-001", fold(temperatures))
    got = (aggregate.count, aggregate.min_temperature, aggregate.max_temperature)
    assert got == (3, 10.0, 60.0), (
        f"readings {temperatures} gave (count, min, max) = {got}; expected (3, 10.0, 60.0)"
    )
    assert aggregate.avg_temperature == 30.0, (
        f"readings {temperatures} gave avg_temperature={aggregate.avg_temperature}; expected 30.0 "
        "(the sum divided by the count, not an average of running averages)"
    )


def test_the_aggregate_names_its_sensor_and_window() -> None:
    aggregate = to_aggregate("sensor-007", fold([21.5]))
    expected = WindowAggregate(
        sensor_id="sensor-007",
        window_start=WINDOW.start,
        window_end=WINDOW.end,
        count=1,
        min_temperature=21.5,
        max_temperature=21.5,
        avg_temperature=21.5,
    )
    assert aggregate == expected, f"to_aggregate(...) returned {aggregate}; expected {expected}"


def test_the_first_reading_starts_from_nothing() -> None:
    stats = add_reading(None, WINDOW, 25.0)
    got = (stats.start, stats.end, stats.count, stats.minimum, stats.maximum, stats.total)
    expected = (WINDOW.start, WINDOW.end, 1, 25.0, 25.0, 25.0)
    assert got == expected, (
        f"add_reading(None, {WINDOW}, 25.0) gave (start, end, count, min, max, total) = {got}; "
        f"expected {expected}"
    )


@given(
    st.lists(
        st.integers(min_value=0, max_value=1500).map(lambda tenths: tenths / 10),
        min_size=1,
        max_size=40,
    )
)
def test_any_readings_fold_to_the_brute_force_statistics(temperatures: list[float]) -> None:
    aggregate = to_aggregate("s", fold(temperatures))
    expected_avg = sum(temperatures) / len(temperatures)
    got = (aggregate.count, aggregate.min_temperature, aggregate.max_temperature)
    expected = (len(temperatures), min(temperatures), max(temperatures))
    assert got == expected, f"{temperatures} gave (count, min, max) = {got}; expected {expected}"
    assert math.isclose(aggregate.avg_temperature, expected_avg, rel_tol=1e-12), (
        f"{temperatures} gave avg_temperature={aggregate.avg_temperature}; "
        f"expected {expected_avg} (sum / count)"
    )
