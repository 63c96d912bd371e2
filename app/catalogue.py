"""Sample events: realistic valid readings and a catalogue of malformed ones (provided).

The producer CLI sends these, and the phase 2 tests feed every malformed kind to your agent.
Each malformed kind has exactly one defect, and the ErrorCode validation must report for it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from app.config import ErrorCode, settings


@dataclass(frozen=True)
class SensorFleet:
    """A reproducible set of sensors with their own base temperature."""

    sensor_ids: tuple[str, ...]
    base_temperatures: tuple[float, ...]

    @classmethod
    def create(cls, count: int, rng: random.Random) -> SensorFleet:
        ids = tuple(f"sensor-{n:03d}" for n in range(1, count + 1))
        # Most rooms are comfortable; some run hot so warning and critical readings occur.
        bases = tuple(rng.choice((18.0, 21.0, 24.0, 27.0, 33.0, 38.0)) for _ in ids)
        return cls(ids, bases)


def valid_reading(
    rng: random.Random, fleet: SensorFleet, sequence: int, timestamp: float
) -> dict[str, object]:
    """One valid reading as a JSON-ready dict; roughly 70% normal, 20% warning, 10% critical."""
    index = rng.randrange(len(fleet.sensor_ids))
    temperature = fleet.base_temperatures[index] + rng.gauss(0.0, 4.0)
    if rng.random() < 0.04:  # an occasional spike
        temperature += rng.uniform(10.0, 25.0)
    return {
        "reading_id": f"r-{sequence:08d}-{rng.getrandbits(32):08x}",
        "sensor_id": fleet.sensor_ids[index],
        "temperature": round(min(max(temperature, 0.5), 120.0), 2),
        "humidity": round(min(max(rng.gauss(45.0, 12.0), 0.0), 100.0), 1),
        "timestamp": round(timestamp, 3),
    }


def to_bytes(reading: object) -> bytes:
    """Compact JSON, as the producer writes it."""
    return json.dumps(reading, separators=(",", ":")).encode()


def _with(**changes: object) -> Callable[[dict[str, object]], bytes]:
    return lambda reading: to_bytes({**reading, **changes})


def _without(name: str) -> Callable[[dict[str, object]], bytes]:
    return lambda reading: to_bytes({k: v for k, v in reading.items() if k != name})


def _raw_replace(field: str, literal: str) -> Callable[[dict[str, object]], bytes]:
    # Python's json.dumps cannot write NaN into a field on purpose, so splice the literal in.
    def build(reading: dict[str, object]) -> bytes:
        marker = "__literal__"
        text = json.dumps({**reading, field: marker}, separators=(",", ":"))
        return text.replace(f'"{marker}"', literal).encode()

    return build


def _deeply_nested(reading: dict[str, object]) -> bytes:
    # Deeper than the parser's recursion limit: json.loads raises RecursionError, not ValueError.
    depth = 100_000
    return to_bytes(reading)[:-1] + b',"extra":' + b"[" * depth + b"]" * depth + b"}"


def _timestamp_times(factor: float) -> Callable[[dict[str, object]], bytes]:
    def build(reading: dict[str, object]) -> bytes:
        timestamp = reading["timestamp"]
        assert isinstance(timestamp, int | float), "a valid reading's timestamp is a number"
        return to_bytes({**reading, "timestamp": timestamp * factor})

    return build


YEAR_2100 = 4_102_444_800.0  # 2100-01-01T00:00:00Z: an RTC that jumped, decades ahead

TOO_LONG_ID = "s" * (settings.max_id_bytes + 1)
# Fewer characters than max_id_bytes, more bytes: the limit is on the UTF-8 bytes (the Kafka key).
TOO_LONG_ID_IN_BYTES = "\u00e9" * (settings.max_id_bytes // 2 + 1)


@dataclass(frozen=True)
class MalformedKind:
    """One way a raw event can be broken, and the error code validation must give it."""

    name: str
    expected: ErrorCode
    build: Callable[[dict[str, object]], bytes | None]  # from a valid reading to broken bytes


MALFORMED_KINDS: tuple[MalformedKind, ...] = (
    MalformedKind("null_value", ErrorCode.EMPTY_PAYLOAD, lambda r: None),
    MalformedKind("empty_bytes", ErrorCode.EMPTY_PAYLOAD, lambda r: b""),
    MalformedKind("invalid_utf8", ErrorCode.INVALID_UTF8, lambda r: b"\xff\xfe" + to_bytes(r)),
    MalformedKind("not_json", ErrorCode.NOT_JSON, lambda r: b"temperature=21.5;sensor=oops"),
    MalformedKind("truncated_json", ErrorCode.NOT_JSON, lambda r: to_bytes(r)[:-7]),
    MalformedKind("json_array", ErrorCode.NOT_AN_OBJECT, lambda r: to_bytes([r])),
    MalformedKind("json_null", ErrorCode.NOT_AN_OBJECT, lambda r: b"null"),
    MalformedKind("missing_reading_id", ErrorCode.MISSING_FIELD, _without("reading_id")),
    MalformedKind("missing_sensor_id", ErrorCode.MISSING_FIELD, _without("sensor_id")),
    MalformedKind("missing_temperature", ErrorCode.MISSING_FIELD, _without("temperature")),
    MalformedKind("missing_humidity", ErrorCode.MISSING_FIELD, _without("humidity")),
    MalformedKind("missing_timestamp", ErrorCode.MISSING_FIELD, _without("timestamp")),
    MalformedKind("temperature_as_text", ErrorCode.WRONG_TYPE, _with(temperature="21.5")),
    MalformedKind("temperature_as_bool", ErrorCode.WRONG_TYPE, _with(temperature=True)),
    MalformedKind("null_temperature", ErrorCode.WRONG_TYPE, _with(temperature=None)),
    MalformedKind("sensor_id_as_number", ErrorCode.WRONG_TYPE, _with(sensor_id=42)),
    MalformedKind("nan_temperature", ErrorCode.NOT_FINITE, _raw_replace("temperature", "NaN")),
    MalformedKind(
        "infinite_temperature", ErrorCode.NOT_FINITE, _raw_replace("temperature", "Infinity")
    ),
    MalformedKind("empty_sensor_id", ErrorCode.EMPTY_SENSOR_ID, _with(sensor_id="")),
    MalformedKind("blank_sensor_id", ErrorCode.EMPTY_SENSOR_ID, _with(sensor_id="   ")),
    MalformedKind("negative_temperature", ErrorCode.NEGATIVE_TEMPERATURE, _with(temperature=-5.0)),
    MalformedKind("temperature_too_high", ErrorCode.OUT_OF_RANGE, _with(temperature=999.0)),
    MalformedKind("humidity_out_of_range", ErrorCode.OUT_OF_RANGE, _with(humidity=140.0)),
    # Robustness: inputs that break naive parsers, each with the code validation must give it.
    MalformedKind("deeply_nested_json", ErrorCode.NOT_JSON, _deeply_nested),
    MalformedKind("utf8_bom", ErrorCode.NOT_JSON, lambda r: b"\xef\xbb\xbf" + to_bytes(r)),
    # More digits than Python's int parser accepts (sys.get_int_max_str_digits(), 4300).
    MalformedKind("integer_too_long", ErrorCode.NOT_JSON, _raw_replace("temperature", "1" * 5000)),
    MalformedKind("lone_surrogate_sensor_id", ErrorCode.INVALID_TEXT, _with(sensor_id="s-\ud800")),
    MalformedKind(
        "lone_surrogate_reading_id", ErrorCode.INVALID_TEXT, _with(reading_id="r-\udfff")
    ),
    # An integer too large for a float: float(10**400) raises OverflowError.
    MalformedKind("integer_too_large_for_float", ErrorCode.NOT_FINITE, _with(humidity=10**400)),
    MalformedKind(
        "float_overflow_temperature", ErrorCode.NOT_FINITE, _raw_replace("temperature", "1e400")
    ),
    MalformedKind("whitespace_sensor_id", ErrorCode.EMPTY_SENSOR_ID, _with(sensor_id="\t\n\u2003")),
    MalformedKind("sensor_id_too_long", ErrorCode.ID_TOO_LONG, _with(sensor_id=TOO_LONG_ID)),
    MalformedKind("reading_id_too_long", ErrorCode.ID_TOO_LONG, _with(reading_id=TOO_LONG_ID)),
    MalformedKind(
        "sensor_id_too_long_in_bytes", ErrorCode.ID_TOO_LONG, _with(sensor_id=TOO_LONG_ID_IN_BYTES)
    ),
    # Clocks a sensor could not have had (phase 2 README, "Clocks"): the timestamp alone is wrong.
    MalformedKind("timestamp_zero", ErrorCode.TIMESTAMP_TOO_OLD, _with(timestamp=0)),
    MalformedKind("timestamp_negative", ErrorCode.TIMESTAMP_TOO_OLD, _with(timestamp=-1.5)),
    MalformedKind("timestamp_year_2100", ErrorCode.TIMESTAMP_IN_FUTURE, _with(timestamp=YEAR_2100)),
    MalformedKind(
        "timestamp_in_milliseconds", ErrorCode.TIMESTAMP_IN_FUTURE, _timestamp_times(1000.0)
    ),
)

MALFORMED_BY_NAME: dict[str, MalformedKind] = {kind.name: kind for kind in MALFORMED_KINDS}
