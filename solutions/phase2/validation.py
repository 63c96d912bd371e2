"""Task 2.1: parse and validate a raw event (reference solution)."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime

from app.config import ErrorCode, settings
from app.models import MalformedReading, SensorReading

TEXT_FIELDS = ("reading_id", "sensor_id")
NUMBER_FIELDS = ("temperature", "humidity", "timestamp")
REQUIRED_FIELDS = ("reading_id", "sensor_id", "temperature", "humidity", "timestamp")


def parse_reading(raw: bytes | None, now: float | None = None) -> SensorReading:
    """Turn raw Kafka value bytes into a SensorReading, or raise MalformedReading.

    The checks run in the order of ErrorCode, and the first problem found is reported.
    ``now`` is the checker's clock (default ``time.time()``), for the timestamp's upper bound.
    """
    limit = settings.max_temperature
    id_limit = settings.max_id_bytes
    document = _decode_json(raw)
    if not isinstance(document, dict):
        raise MalformedReading(
            ErrorCode.NOT_AN_OBJECT, f"expected a JSON object, got {type(document).__name__}"
        )
    missing = [name for name in REQUIRED_FIELDS if name not in document]
    if missing:
        raise MalformedReading(ErrorCode.MISSING_FIELD, f"missing field(s): {', '.join(missing)}")
    for name in TEXT_FIELDS:
        _require_text(name, document[name])
    numbers = {name: _require_number(name, document[name]) for name in NUMBER_FIELDS}
    for name in TEXT_FIELDS:
        _require_unicode(name, document[name])
    for name, value in numbers.items():
        if not math.isfinite(value):
            raise MalformedReading(ErrorCode.NOT_FINITE, f"{name} is {value}, not a finite number")
    sensor_id: str = document["sensor_id"]
    if not sensor_id.strip():
        raise MalformedReading(ErrorCode.EMPTY_SENSOR_ID, "sensor_id is empty")
    temperature, humidity = numbers["temperature"], numbers["humidity"]
    if temperature < 0:
        raise MalformedReading(
            ErrorCode.NEGATIVE_TEMPERATURE, f"temperature {temperature} is below 0"
        )
    if temperature > limit:
        raise MalformedReading(
            ErrorCode.OUT_OF_RANGE, f"temperature {temperature} is above the maximum {limit}"
        )
    if not 0 <= humidity <= 100:
        raise MalformedReading(ErrorCode.OUT_OF_RANGE, f"humidity {humidity} is outside 0..100")
    for name in TEXT_FIELDS:
        # Bytes, not characters: the sensor_id becomes the Kafka key of the enriched reading.
        size = len(document[name].encode("utf-8"))
        if size > id_limit:
            raise MalformedReading(
                ErrorCode.ID_TOO_LONG, f"{name} is {size} bytes long; at most {id_limit} allowed"
            )
    _require_plausible_time(numbers["timestamp"], time.time() if now is None else now)
    return SensorReading(
        reading_id=document["reading_id"],
        sensor_id=sensor_id,
        temperature=temperature,
        humidity=humidity,
        timestamp=numbers["timestamp"],
    )


def _require_plausible_time(timestamp: float, now: float) -> None:
    # Both bounds are inclusive: exactly min_event_time, exactly now + max_clock_skew are valid.
    floor, ceiling = settings.min_event_time, now + settings.max_clock_skew
    if timestamp < floor:
        raise MalformedReading(
            ErrorCode.TIMESTAMP_TOO_OLD,
            f"timestamp {timestamp} ({_utc(timestamp)}) is before {floor} ({_utc(floor)}): "
            "the sensor's clock was reset or never set",
        )
    if timestamp > ceiling:
        reason = (
            f"timestamp {timestamp} ({_utc(timestamp)}) is {timestamp - now:.6g} s ahead of "
            f"this worker's clock ({now}); at most {settings.max_clock_skew} s are allowed"
        )
        if floor <= timestamp / 1000 <= ceiling:
            reason += f"; it looks like milliseconds ({_utc(timestamp / 1000)} in seconds)"
        raise MalformedReading(ErrorCode.TIMESTAMP_IN_FUTURE, reason)


def _utc(timestamp: float) -> str:
    """An ISO date for a reason, or "beyond year 9999" where datetime gives up."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return "outside years 1-9999"


def _decode_json(raw: bytes | None) -> object:
    if not raw:
        raise MalformedReading(ErrorCode.EMPTY_PAYLOAD, "the event has no value")
    try:
        # Decode explicitly: json.loads(bytes) would guess UTF-16/32 from the first bytes.
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedReading(
            ErrorCode.INVALID_UTF8, f"byte {error.start} is not valid UTF-8"
        ) from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, too-long ints, deep nesting
        raise MalformedReading(ErrorCode.NOT_JSON, f"not JSON: {error}") from None


def _require_text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise MalformedReading(
            ErrorCode.WRONG_TYPE, f"{name} must be a string, got {_json_type(value)}"
        )
    return value


def _require_unicode(name: str, value: str) -> None:
    try:
        # A JSON escape like "\\ud800" smuggles in a lone surrogate, which UTF-8 cannot encode
        # (the enriched reading's key could not be written).
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise MalformedReading(
            ErrorCode.INVALID_TEXT, f"{name} holds a lone surrogate at character {error.start}"
        ) from None


def _require_number(name: str, value: object) -> float:
    # bool is a subclass of int in Python, but true/false are not numbers in JSON.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedReading(
            ErrorCode.WRONG_TYPE, f"{name} must be a number, got {_json_type(value)}"
        )
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        return math.inf if value > 0 else -math.inf


def _json_type(value: object) -> str:
    names = {bool: "boolean", str: "string", dict: "object", list: "array", type(None): "null"}
    return names.get(type(value), type(value).__name__)
