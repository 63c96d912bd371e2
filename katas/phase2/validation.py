"""Task 2.1: parse and validate a raw event.

The producer writes JSON readings to ``sensor-readings``, and some of them are broken
(app/catalogue.py lists every way). Turn good bytes into a SensorReading; for bad bytes raise
MalformedReading with the ErrorCode that says why. Read ``ErrorCode`` in app/config.py: its
order is the order of the checks, and you report the FIRST problem you find.

Run: ``uv run pytest katas/phase2/test_validation.py``
"""

from __future__ import annotations

# You will need all of these: raise MalformedReading(ErrorCode.NOT_JSON, "...") for a bad event;
# settings.max_temperature, settings.max_id_bytes, settings.min_event_time and
# settings.max_clock_skew are the limits.
from app.config import ErrorCode, settings  # noqa: F401
from app.models import MalformedReading, SensorReading  # noqa: F401


def parse_reading(raw: bytes | None, now: float | None = None) -> SensorReading:
    """Turn raw Kafka value bytes into a SensorReading, or raise MalformedReading.

    - ``None`` or no bytes at all                      -> EMPTY_PAYLOAD
    - bytes that are not UTF-8, text that is not JSON  -> INVALID_UTF8, NOT_JSON
      (JSON nested deeper than the parser's recursion limit raises RecursionError, and an
      integer of more than 4300 digits ValueError: both are NOT_JSON; so is a UTF-8 BOM)
    - JSON that is not an object, a field missing      -> NOT_AN_OBJECT, MISSING_FIELD
    - reading_id/sensor_id not strings; temperature, humidity, timestamp not numbers
      (``true`` and ``null`` are not numbers)          -> WRONG_TYPE
    - reading_id/sensor_id holding a lone surrogate (the JSON escape ``"\ud800"`` decodes to
      text UTF-8 cannot encode: the enriched reading's key could not be written) -> INVALID_TEXT
    - NaN or Infinity, ``1e400``, or an integer too large for a float (``float(10**400)`` raises
      OverflowError)                                   -> NOT_FINITE
    - sensor_id empty or only whitespace (``str.strip``) -> EMPTY_SENSOR_ID
    - temperature < 0                                  -> NEGATIVE_TEMPERATURE
    - temperature > settings.max_temperature, humidity outside 0..100 -> OUT_OF_RANGE
    - reading_id or sensor_id longer than settings.max_id_bytes bytes of UTF-8 (bytes, not
      characters: they become Kafka keys and must fit in a record) -> ID_TOO_LONG
    - last, a time the sensor's clock could not have shown (README, "Clocks"); both bounds are
      inclusive (exactly on a bound is valid):
      timestamp < settings.min_event_time (0, negative, 1970: a reset clock) -> TIMESTAMP_TOO_OLD
      timestamp > now + settings.max_clock_skew (the year 2100, milliseconds instead of
      seconds)                                         -> TIMESTAMP_IN_FUTURE
      ``now`` is the checker's clock: ``time.time()`` when None (the tests pass their own).
      Say in the reason when the timestamp / 1000 would be plausible: it is in milliseconds.

    Never raise anything else, whatever the bytes are.
    """
    raise NotImplementedError(
        "task 2.1: parse and validate a raw event — run `uv run kata hint 2.1`"
    )
