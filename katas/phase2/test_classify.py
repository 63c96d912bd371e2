"""Task 2.2: classify is total, monotonic, and exact at its thresholds."""

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


def expected_status(temperature: float, warning: float, critical: float) -> Status:
    if temperature >= critical:
        return Status.CRITICAL
    return Status.WARNING if temperature >= warning else Status.NORMAL


def check(
    temperature: float, expected: Status, warning: float = WARNING, critical: float = CRITICAL
) -> None:
    got = classify(temperature, warning, critical)
    rule = f"warning >= {warning!r}, critical >= {critical!r}"
    assert got == expected, (
        f"classify({temperature!r}, warning={warning!r}, critical={critical!r}) returned "
        f"{str(got)!r}; expected {str(expected)!r} ({rule})"
    )


@pytest.mark.parametrize(
    ("temperature", "expected"),
    [(21.5, Status.NORMAL), (35.0, Status.WARNING), (41.0, Status.CRITICAL), (0.0, Status.NORMAL)],
)
def test_typical_temperatures(temperature: float, expected: Status) -> None:
    check(temperature, expected)


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
    check(temperature, expected_status(temperature, WARNING, CRITICAL))


@given(TEMPERATURES, TEMPERATURES)
def test_monotonic_hotter_is_never_less_severe(first: float, second: float) -> None:
    cooler, hotter = sorted((first, second))
    a, b = classify(cooler), classify(hotter)
    assert RANK[a] <= RANK[b], (
        f"classify({cooler!r}) returned {str(a)!r} but classify({hotter!r}) returned {str(b)!r}; "
        "expected a hotter reading never to be less severe"
    )


@given(
    st.floats(min_value=0.0, max_value=100.0),
    st.floats(min_value=0.001, max_value=100.0),
    TEMPERATURES,
)
def test_exact_with_random_thresholds(warning: float, gap: float, temperature: float) -> None:
    critical = warning + gap
    assume(critical > warning)
    for probe in (warning, critical, math.nextafter(warning, -math.inf), temperature):
        check(probe, expected_status(probe, warning, critical), warning, critical)
