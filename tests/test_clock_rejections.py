"""app/clock_rejections.py: readings dead-lettered for their clock are counted per sensor."""

from __future__ import annotations

import faust

from app.catalogue import MALFORMED_BY_NAME, to_bytes
from app.clock_rejections import clock_rejections, count_clock_rejections
from app.config import ErrorCode
from app.models import DeadLetter, encode_bytes
from kata_engine.testing import run_agent

READING = {
    "reading_id": "r-1",
    "sensor_id": "sensor-007",
    "temperature": 21.5,
    "humidity": 40.0,
    "timestamp": 1_735_689_600.0,
}


def dead_letter(raw: bytes | None, key: bytes | None, code: ErrorCode) -> DeadLetter:
    return DeadLetter(
        error_code=code.value,
        reason="test",
        payload_base64=encode_bytes(raw),
        key_base64=encode_bytes(key),
        source_topic="sensor-readings",
        source_partition=1,
        source_offset=42,
        failed_at=0.0,
    )


async def test_clock_dead_letters_are_counted_per_sensor_and_others_not(
    faust_app: faust.App,
) -> None:
    future = MALFORMED_BY_NAME["timestamp_year_2100"].build(READING)
    zero = MALFORMED_BY_NAME["timestamp_zero"].build(READING)
    letters = [
        dead_letter(future, b"sensor-007", ErrorCode.TIMESTAMP_IN_FUTURE),
        dead_letter(zero, b"other-key", ErrorCode.TIMESTAMP_TOO_OLD),  # the payload's sensor wins
        dead_letter(b"not json", b"sensor-007", ErrorCode.NOT_JSON),
        dead_letter(to_bytes(READING), b"sensor-007", ErrorCode.LATE_EVENT),
    ]
    async with run_agent(count_clock_rejections) as run:
        for letter in letters:
            await run.put(letter, key=letter.key(), partition=1)
    assert run.results == ["sensor-007", "sensor-007", None, None], (
        f"the agent yielded {run.results}; expected the sensor for the two clock rejections "
        "and None for the not_json and late_event dead letters"
    )
    assert dict(clock_rejections.items()) == {"sensor-007": 2}, (
        f"clock_rejections holds {dict(clock_rejections.items())}; expected {{'sensor-007': 2}}"
    )


async def test_a_payload_that_is_not_a_reading_falls_back_to_the_key(faust_app: faust.App) -> None:
    letter = dead_letter(b'{"cut": ', b"sensor-big", ErrorCode.TIMESTAMP_IN_FUTURE)
    async with run_agent(count_clock_rejections) as run:
        await run.put(letter, key=letter.key(), partition=0)
    assert run.results == ["sensor-big"], (
        f"a clock dead letter whose payload is not a whole reading (a truncated one) was "
        f"counted for {run.results}; expected its key, 'sensor-big'"
    )
