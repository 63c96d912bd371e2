"""Task 2.4: the enrichment agent (reference solution)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from faust.types import EventT, StreamT

from app.faust_app import app, topics
from app.models import DeadLetter, EnrichedReading, MalformedReading, SensorReading
from katas.phase2.classify import classify
from katas.phase2.dead_letter import dead_letter_headers, to_dead_letter
from katas.phase2.validation import parse_reading


@app.agent(topics.readings)
async def enrich_readings(
    stream: StreamT[bytes],
) -> AsyncIterator[EnrichedReading | DeadLetter]:
    """Every raw reading becomes an EnrichedReading or a DeadLetter; yields what it sent."""
    # events(), not the plain stream: a dead letter needs the key and the source coordinates.
    async for event in stream.events():
        yield await route(event)


async def route(event: EventT[bytes]) -> EnrichedReading | DeadLetter:
    """Send one event to enriched-readings or to the dead-letter topic; return what was sent."""
    raw: bytes | None = event.value
    key: bytes | None = event.key
    try:
        reading = parse_reading(raw)
    except MalformedReading as error:
        message = event.message
        dead = to_dead_letter(raw, key, error, message.topic, message.partition, message.offset)
        await topics.dead_letter.send(key=key, value=dead, headers=dead_letter_headers(dead))
        return dead
    enriched = enrich(reading)
    # Keyed by sensor: one sensor's readings stay in one partition, in order.
    await topics.enriched.send(key=enriched.sensor_id, value=enriched)
    return enriched


def enrich(reading: SensorReading) -> EnrichedReading:
    """The reading plus its status and the time the pipeline processed it."""
    return EnrichedReading(
        reading_id=reading.reading_id,
        sensor_id=reading.sensor_id,
        temperature=reading.temperature,
        humidity=reading.humidity,
        timestamp=reading.timestamp,
        status=classify(reading.temperature).value,
        processed_at=time.time(),
    )
