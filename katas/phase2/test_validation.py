"""Task 2.1: parse_reading turns good bytes into a SensorReading and names the first problem."""

from __future__ import annotations

import json
import math
import random
import time

import pytest
from hypothesis import example, given
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


def shown(raw: bytes | None) -> str:
    """Bytes in an assertion message: short ones in full, long ones by size and start."""
    if raw is None or len(raw) <= 120:
        return repr(raw)
    return f"<{len(raw):,} bytes starting {raw[:60]!r}>"


def assert_code(raw: bytes | None, expected: ErrorCode) -> None:
    try:
        parse_reading(raw)
    except MalformedReading as error:
        assert error.code == expected, (
            f"parse_reading({shown(raw)}) raised MalformedReading({error.code!s}, "
            f"{error.reason!r}); expected code {expected!s}"
        )
        assert error.reason.strip(), f"parse_reading({shown(raw)}) gave an empty reason"
        return
    except NotImplementedError:
        raise  # still a stub: let the failure say which task to do
    except Exception as error:
        pytest.fail(
            f"parse_reading({shown(raw)}) raised {type(error).__name__}: {str(error)[:200]}; "
            f"expected MalformedReading with code {expected!s} (never anything else)"
        )
    pytest.fail(
        f"parse_reading({shown(raw)}) returned a reading; expected MalformedReading with code "
        f"{expected!s}"
    )


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
    # (ids exactly max_id_bytes long are tested below)
    raw = to_bytes({**sample(), **changes})
    try:
        parsed = parse_reading(raw)
    except MalformedReading as error:
        pytest.fail(f"parse_reading({raw!r}) raised {error!r}; expected a valid reading")
    for name, value in changes.items():
        assert getattr(parsed, name) == value, (
            f"parse_reading({raw!r}).{name} is {getattr(parsed, name)!r}; expected {value!r}"
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"sensor_id": "s" * settings.max_id_bytes},
        {"reading_id": "r" * settings.max_id_bytes},
        {"sensor_id": "\u00e9" * (settings.max_id_bytes // 2)},  # 2 bytes each in UTF-8
        {"sensor_id": "s-\U0001f321"},  # a character outside the BMP is fine (no surrogate)
    ],
    ids=["sensor-id-at-max-bytes", "reading-id-at-max-bytes", "multibyte-at-max", "emoji"],
)
def test_ids_up_to_the_limit_are_valid(changes: dict[str, object]) -> None:
    raw = to_bytes({**sample(), **changes})
    result = outcome_of(raw)
    assert result.startswith("returned"), (
        f"parse_reading({shown(raw)}) {result}; expected a valid reading: an id of at most "
        f"settings.max_id_bytes ({settings.max_id_bytes}) bytes of UTF-8 is allowed"
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
        # Wrong types before lone surrogates, lone surrogates before non-finite numbers.
        (to_bytes(sample(sensor_id="\ud800", humidity="wet")), ErrorCode.WRONG_TYPE),
        (to_bytes(sample(reading_id="\udc00", humidity=10**400)), ErrorCode.INVALID_TEXT),
        # Out of range before a too long id: the id check comes last.
        (to_bytes(sample(sensor_id="s" * 1000, humidity=140.0)), ErrorCode.OUT_OF_RANGE),
    ],
    ids=[
        "missing-before-wrong-type",
        "wrong-type-before-not-finite",
        "not-finite-before-empty-sensor-id",
        "empty-sensor-id-before-negative",
        "negative-before-out-of-range",
        "wrong-type-before-invalid-text",
        "invalid-text-before-not-finite",
        "out-of-range-before-id-too-long",
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
    | st.integers(min_value=10**300, max_value=10**400)  # too large for a float
    | st.text(max_size=10)
    | st.text(st.characters(codec=None, categories=["Cs"]), min_size=1, max_size=3)  # surrogates
    | st.text(min_size=250, max_size=300)  # around max_id_bytes
    | st.lists(st.integers(), max_size=2)
)
FIELDS = ("reading_id", "sensor_id", "temperature", "humidity", "timestamp")


@given(st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, JSON_VALUES)))
@example(sample(humidity=10**400)).via("an integer too large for a float")
@example(sample(timestamp=10**400)).via("a timestamp too large for a float")
def test_any_json_object_gives_a_reading_or_malformed_reading(
    document: dict[str, object],
) -> None:
    raw = json.dumps(document).encode()  # json.dumps writes NaN/Infinity, like a broken producer
    result = outcome_of(raw)
    assert result.startswith(("returned", "raised MalformedReading")), (
        f"parse_reading({shown(raw)}) {result}; expected a SensorReading or MalformedReading"
    )
    if result.startswith("returned"):
        reading = parse_reading(raw)
        ids_fit = all(
            len(getattr(reading, name).encode("utf-8", "surrogatepass")) <= settings.max_id_bytes
            and not any("\ud800" <= char <= "\udfff" for char in getattr(reading, name))
            for name in ("reading_id", "sensor_id")
        )
        numbers = (reading.temperature, reading.humidity, reading.timestamp)
        assert ids_fit and all(map(math.isfinite, numbers)), (
            f"parse_reading({shown(raw)}) {result}; a valid reading has ids of at most "
            f"{settings.max_id_bytes} bytes of UTF-8 without lone surrogates, and finite numbers"
        )


# --- clocks: a time the sensor could not have produced (README, "Clocks") -----------------------

NOW = 1_800_000_000.0  # the checker's clock in these tests: 2027-01-15T08:00:00Z
SKEW = settings.max_clock_skew
FLOOR = settings.min_event_time


def clock_outcome(timestamp: object, now: float | None = NOW) -> str:
    raw = to_bytes(sample(timestamp=timestamp))
    try:
        reading = parse_reading(raw, now=now)
    except MalformedReading as error:
        return str(error.code)
    except NotImplementedError:
        raise  # still a stub: let the failure say which task to do
    except Exception as error:
        return f"raised {type(error).__name__}: {error}"
    return "valid" if reading.timestamp == timestamp else f"valid, timestamp {reading.timestamp}"


@pytest.mark.parametrize(
    ("timestamp", "expected", "why"),
    [
        (NOW, "valid", "the checker's own time"),
        (NOW + SKEW, "valid", "exactly now + max_clock_skew: the bound is inclusive"),
        (NOW + SKEW + 0.001, "timestamp_in_future", "just beyond now + max_clock_skew"),
        (NOW - 86_400 * 365, "valid", "a year old: replaying history is allowed"),
        (FLOOR, "valid", "exactly min_event_time: the bound is inclusive"),
        (FLOOR - 0.001, "timestamp_too_old", "just before min_event_time"),
        (0, "timestamp_too_old", "0: a clock that never was set"),
        (-1.5, "timestamp_too_old", "negative: before 1970"),
        (946_684_800, "timestamp_too_old", "2000-01-01: where RTC chips restart"),
        (NOW * 1000, "timestamp_in_future", "milliseconds instead of seconds"),
        (4_102_444_800, "timestamp_in_future", "the year 2100: a clock that jumped"),
        (NOW / 1000, "timestamp_too_old", "seconds / 1000 (kiloseconds): 1970"),
    ],
    ids=[
        "now",
        "exactly-at-the-skew",
        "beyond-the-skew",
        "a-year-old",
        "exactly-at-the-floor",
        "before-the-floor",
        "zero",
        "negative",
        "year-2000",
        "milliseconds",
        "year-2100",
        "kiloseconds",
    ],
)
def test_a_timestamp_the_sensor_could_not_have_produced_is_rejected(
    timestamp: float, expected: str, why: str
) -> None:
    got = clock_outcome(timestamp)
    assert got == expected, (
        f"parse_reading(a reading at timestamp={timestamp}, now={NOW}) gave {got}; expected "
        f"{expected} ({why}; settings.min_event_time={FLOOR}, "
        f"settings.max_clock_skew={SKEW})"
    )


def test_milliseconds_are_named_in_the_reason() -> None:
    raw = to_bytes(sample(timestamp=NOW * 1000))
    with pytest.raises(MalformedReading) as caught:
        parse_reading(raw, now=NOW)
    assert "millisecond" in caught.value.reason, (
        f"a timestamp in milliseconds ({NOW * 1000}) was rejected with the reason "
        f"{caught.value.reason!r}; expected it to say 'milliseconds', so whoever reads the dead "
        "letter knows what to fix"
    )


def test_now_defaults_to_the_wall_clock() -> None:
    ahead = time.time() + SKEW + 120.0
    got = (clock_outcome(time.time() - 1.0, now=None), clock_outcome(ahead, now=None))
    assert got == ("valid", "timestamp_in_future"), (
        f"without now=, a reading from a second ago and one {SKEW + 120:g} s ahead gave {got}; "
        "expected ('valid', 'timestamp_in_future'): now defaults to time.time()"
    )


def test_the_clock_is_checked_last() -> None:
    raw = to_bytes(sample(timestamp=0, sensor_id="s" * (settings.max_id_bytes + 1)))
    assert_code(raw, ErrorCode.ID_TOO_LONG)
    raw = to_bytes(sample(timestamp=NOW * 1000, humidity=140.0))
    assert_code(raw, ErrorCode.OUT_OF_RANGE)


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
@example(NOW + SKEW).via("the upper bound itself")
@example(NOW * 1000).via("milliseconds")
@example(0.0).via("zero")
def test_a_timestamp_is_valid_exactly_between_the_bounds(timestamp: float) -> None:
    got = clock_outcome(timestamp)
    expected = (
        "valid"
        if FLOOR <= timestamp <= NOW + SKEW
        else ("timestamp_too_old" if timestamp < FLOOR else "timestamp_in_future")
    )
    assert got == expected, (
        f"parse_reading(a reading at timestamp={timestamp}, now={NOW}) gave {got}; expected "
        f"{expected}: valid exactly when {FLOOR} <= timestamp <= now + {SKEW}"
    )
