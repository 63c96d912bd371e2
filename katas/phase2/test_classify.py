"""Task 2.2: classify is total, monotonic, and exact at its thresholds.

No test here computes the expected status the way a solution would: examples are worked out by
hand, and the properties draw each temperature from one region of the rule (below warning,
between the thresholds, at or above critical) and check that region's status.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.config import Status, settings
from katas.phase2.classify import classify

WARNING = settings.warning_temperature
CRITICAL = settings.critical_temperature
RANK = {Status.NORMAL: 0, Status.WARNING: 1, Status.CRITICAL: 2}
TEMPERATURES = st.floats(min_value=-50.0, max_value=200.0, allow_nan=False)


def check(
    temperature: float, expected: Status, warning: float = WARNING, critical: float = CRITICAL
) -> None:
    got = classify(temperature, warning, critical)
    rule = f"warning >= {warning!r}, critical >= {critical!r}"
    assert got == expected, (
        f"classify({temperature!r}, warning={warning!r}, critical={critical!r}) returned "
        f"{str(got)!r}; expected {str(expected)!r} ({rule})"
    )


# Examples worked out by hand: (temperature, warning, critical, expected).
EXAMPLES = [
    (21.5, WARNING, CRITICAL, Status.NORMAL),
    (0.0, WARNING, CRITICAL, Status.NORMAL),
    (-12.0, WARNING, CRITICAL, Status.NORMAL),
    (29.99, WARNING, CRITICAL, Status.NORMAL),
    (35.0, WARNING, CRITICAL, Status.WARNING),
    (39.99, WARNING, CRITICAL, Status.WARNING),
    (41.0, WARNING, CRITICAL, Status.CRITICAL),
    (150.0, WARNING, CRITICAL, Status.CRITICAL),
    # Other thresholds than the defaults: 35.0 is critical here, 12.0 a warning.
    (35.0, 10.0, 20.0, Status.CRITICAL),
    (12.0, 10.0, 20.0, Status.WARNING),
    (9.5, 10.0, 20.0, Status.NORMAL),
    (45.0, 50.0, 60.0, Status.NORMAL),
]


@pytest.mark.parametrize(("temperature", "warning", "critical", "expected"), EXAMPLES)
def test_typical_temperatures(
    temperature: float, warning: float, critical: float, expected: Status
) -> None:
    check(temperature, expected, warning, critical)


def test_exact_at_thresholds() -> None:
    check(WARNING, Status.WARNING)
    check(CRITICAL, Status.CRITICAL)
    check(math.nextafter(WARNING, -math.inf), Status.NORMAL)
    check(math.nextafter(CRITICAL, -math.inf), Status.WARNING)


def test_default_thresholds_come_from_settings() -> None:
    got = classify(CRITICAL)
    assert got == Status.CRITICAL, (
        f"classify({CRITICAL!r}) returned {str(got)!r}; expected 'critical' "
        f"(critical >= {CRITICAL!r} from app.config.settings)"
    )


@given(TEMPERATURES)
def test_total_every_temperature_has_a_status(temperature: float) -> None:
    got = classify(temperature)
    assert got in RANK, f"classify({temperature!r}) returned {got!r}; expected a Status"


@given(TEMPERATURES, TEMPERATURES)
def test_monotonic_hotter_is_never_less_severe(first: float, second: float) -> None:
    cooler, hotter = sorted((first, second))
    a, b = classify(cooler), classify(hotter)
    assert RANK[a] <= RANK[b], (
        f"classify({cooler!r}) returned {str(a)!r} but classify({hotter!r}) returned {str(b)!r}; "
        "expected a hotter reading never to be less severe"
    )


THRESHOLDS = st.tuples(
    st.floats(min_value=0.0, max_value=100.0), st.floats(min_value=0.001, max_value=100.0)
).map(lambda pair: (pair[0], pair[0] + pair[1]))


@given(THRESHOLDS, st.data())
def test_exact_with_random_thresholds(thresholds: tuple[float, float], data: st.DataObject) -> None:
    # The rule, region by region: below warning normal, from warning up to critical warning,
    # from critical up critical. Each region's temperatures are drawn from that region only.
    warning, critical = thresholds
    assume(critical > warning)
    for probe in (warning, math.nextafter(critical, -math.inf)):
        check(probe, Status.WARNING, warning, critical)
    check(critical, Status.CRITICAL, warning, critical)
    check(math.nextafter(warning, -math.inf), Status.NORMAL, warning, critical)
    below = data.draw(st.floats(max_value=warning, exclude_max=True, min_value=-50.0))
    between = data.draw(st.floats(min_value=warning, max_value=critical, exclude_max=True))
    above = data.draw(st.floats(min_value=critical, max_value=200.0))
    check(below, Status.NORMAL, warning, critical)
    check(between, Status.WARNING, warning, critical)
    check(above, Status.CRITICAL, warning, critical)
