"""Readings rejected for their clock, counted per sensor (provided; read it, don't edit it).

Phase 2's validation dead-letters a reading whose timestamp no working sensor could have
produced (``timestamp_too_old``, ``timestamp_in_future``: phase 2 README, "Clocks"). This agent
reads the dead letters back and counts those per sensor in the ``clock-rejections`` table, which
/status/ shows as ``clock_rejected_per_sensor`` (phase 5, task 5.3 imports it, so it runs with
phase 5). A clock that keeps being rejected is a device to fix, not a reading to replay.

The sensor is the rejected reading's own ``sensor_id`` (its payload passed every other check,
so it is a JSON object with a valid one); only a payload too large to be stored whole falls
back to the dead letter's key. The count is written in the dead letter's partition, which is
its reading's (phase 2 sends dead letters with ``partition=``), so phase 5's transactions
cover it like any other table update.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from faust.types import StreamT

from app.config import ErrorCode
from app.faust_app import app, topics
from app.models import DeadLetter

CLOCK_CODES = frozenset({ErrorCode.TIMESTAMP_TOO_OLD.value, ErrorCode.TIMESTAMP_IN_FUTURE.value})

# sensor_id -> how many of its readings were dead-lettered for an impossible timestamp.
clock_rejections = app.Table("clock-rejections", default=int)


def rejected_sensor(dead: DeadLetter) -> str | None:
    """The sensor of a dead letter rejected for its clock; None for any other dead letter."""
    if dead.error_code not in CLOCK_CODES:
        return None
    try:
        sensor = json.loads(dead.payload() or b"")["sensor_id"]
    except (ValueError, KeyError, TypeError):
        sensor = None
    if isinstance(sensor, str):
        return sensor
    key = dead.key()
    return "<no key>" if key is None else key.decode("utf-8", errors="backslashreplace")


@app.agent(topics.dead_letter)
async def count_clock_rejections(stream: StreamT[DeadLetter]) -> AsyncIterator[str | None]:
    """Count each clock rejection for its sensor; yields the sensor (None: another dead letter)."""
    async for dead in stream:
        sensor = rejected_sensor(dead)
        if sensor is not None:
            clock_rejections[sensor] += 1
        yield sensor
