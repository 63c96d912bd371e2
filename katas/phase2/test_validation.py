"""Task 2.1: parse_reading turns good bytes into a SensorReading and names the first problem."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.catalogue import MALFORMED_KINDS, MalformedKind, SensorFleet, to_bytes, valid_reading
from app.config import ErrorCode, settings
from app.models import MalformedReading
from katas.phase2.validation import parse_reading

FLEET = SensorFleet.create(5, random.Random(2))


def sample(sequence: int = 1, **changes: object) -> dict[str, object]:
    """A valid reading as a dict, with ``changes`` applied."""
    reading = valid_reading(random.Random(sequence), FLEET, sequence, 1_700_000_000.0 + sequence)
    return {**reading, **changes}


def outcome_of(raw: bytes | None) -> str:
    """What parse_reading did with ``raw``, in words, for assertion messages."""
    try:
        reading = parse_reading(raw)
    except MalformedReading as error:
        return f"raised MalformedReading({error.code!s}, {error.reason!r})"
    except NotImplementedError:
        raise  # still a stub: let the failure say which task to do
    except Exception as error:
        return f"raised {type(error).__name__}: {error}"
    return f"returned {reading!r}"


def assert_code(raw: bytes | None, expected: ErrorCode) -> None:
    with pytest.raises(MalformedReading) as caught:
        parse_reading(raw)
    got = caught.value.code
    assert got == expected, (
        f"parse_reading({raw!r}) raised MalformedReading with code {got!s}; expected {expected!s}"
    )
    assert caught.value.reason.strip(), f"parse_reading({raw!r}) gave an empty reason"


def test_a_valid_reading_becomes_a_sensor_reading() -> None:
    reading = sample()
    raw = to_bytes(reading)
    parsed = parse_reading(raw)
    got = {name: getattr(parsed, name) for name in reading}
    assert got == reading, f"parse_reading({raw!r}) returned {got}; expected {reading}"


@pytest.mark.parametrize(
    "changes",
    [
        {"temperature": 0.0},
        {"temperature": settings.max_temperature},
        {"temperature": 21},  # a JSON integer is a number too
        {"humidity": 0.0},
        {"humidity": 100.0},
    ],
    ids=["zero-degrees", "max-temperature", "integer-temperature", "humidity-0", "humidity-100"],
)
def test_values_at_the_limits_are_valid(changes: dict[str, object]) -> None:
    raw = to_bytes({**sample(), **changes})
    try:
        parsed = parse_reading(raw)
    except MalformedReading as error:
        pytest.fail(f"parse_reading({raw!r}) raised {error!r}; expected a valid reading")
    for name, value in changes.items():
        assert getattr(parsed, name) == value, (
            f"parse_reading({raw!r}).{name} is {getattr(parsed, name)!r}; expected {value!r}"
        )


@pytest.mark.parametrize("kind", MALFORMED_KINDS, ids=[kind.name for kind in MALFORMED_KINDS])
def test_each_malformed_kind_gets_its_error_code(kind: MalformedKind) -> None:
    assert_code(kind.build(sample()), kind.expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Missing fields come before wrong types, whichever field is first in the object.
        (to_bytes({"reading_id": "r-1", "sensor_id": 42}), ErrorCode.MISSING_FIELD),
        # Wrong types come before non-finite numbers: check every field's type first.
        (
            to_bytes(sample(timestamp=None)).replace(b'"temperature":', b'"temperature":NaN,"x":'),
            ErrorCode.WRONG_TYPE,
        ),
        # Non-finite before an empty sensor_id, empty sensor_id before the ranges.
        (
            to_bytes(sample(sensor_id="")).replace(b'"humidity":', b'"humidity":Infinity,"x":'),
            ErrorCode.NOT_FINITE,
        ),
        (to_bytes(sample(sensor_id=" ", temperature=-1.0)), ErrorCode.EMPTY_SENSOR_ID),
        (to_bytes(sample(temperature=-1.0, humidity=140.0)), ErrorCode.NEGATIVE_TEMPERATURE),
    ],
    ids=[
        "missing-before-wrong-type",
        "wrong-type-before-not-finite",
        "not-finite-before-empty-sensor-id",
        "empty-sensor-id-before-negative",
        "negative-before-out-of-range",
    ],
)
def test_the_first_problem_in_error_code_order_wins(raw: bytes, expected: ErrorCode) -> None:
    assert_code(raw, expected)


@given(st.binary(max_size=200))
def test_any_bytes_give_a_reading_or_malformed_reading(raw: bytes) -> None:
    try:
        parse_reading(raw)
    except MalformedReading:
        pass
    except NotImplementedError:
        raise  # still a stub: let the failure say which task to do
    except Exception as error:
        pytest.fail(
            f"parse_reading({raw!r}) raised {type(error).__name__}: {error}; "
            "expected a SensorReading or MalformedReading"
        )


JSON_VALUES = (
    st.none()
    | st.booleans()
    | st.floats()
    | st.integers()
    | st.text(max_size=10)
    | st.lists(st.integers(), max_size=2)
)
FIELDS = ("reading_id", "sensor_id", "temperature", "humidity", "timestamp")


@given(st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, JSON_VALUES)))
def test_any_json_object_gives_a_reading_or_malformed_reading(
    document: dict[str, object],
) -> None:
    raw = json.dumps(document).encode()  # json.dumps writes NaN/Infinity, like a broken producer
    result = outcome_of(raw)
    assert result.startswith(("returned", "raised MalformedReading")), (
        f"parse_reading({raw!r}) {result}; expected a SensorReading or MalformedReading"
    )
