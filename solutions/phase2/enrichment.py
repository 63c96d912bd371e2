"""Task 2.4: the enrichment agent (reference solution)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable

from faust.types import EventT, StreamT
from faust.types.tuples import RecordMetadata

from app.config import ErrorCode
from app.faust_app import app, topics
from app.halt import halt_worker
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
        # route never raises: Faust would acknowledge the event anyway (it acks in a finally).
        yield await route(event)


async def route(event: EventT[bytes]) -> EnrichedReading | DeadLetter:
    """Send one event to enriched-readings or to the dead-letter topic; return what was sent."""
    try:
        enriched = enrich(parse_reading(event.value))
    except MalformedReading as error:
        return await send_dead_letter(event, error)
    except Exception as error:  # a bug on this one event: dead-letter it, keep going
        return await send_dead_letter(event, failure(ErrorCode.PROCESSING_FAILED, error))
    try:
        # Keyed by sensor: one sensor's readings stay in one partition, in order.
        await delivered(topics.enriched.send(key=enriched.sensor_id, value=enriched))
    except Exception as error:  # refused by the producer or the broker: not written
        return await send_dead_letter(event, failure(ErrorCode.SEND_FAILED, error))
    return enriched


async def send_dead_letter(event: EventT[bytes], error: MalformedReading) -> DeadLetter:
    """Write the event's dead letter; if even that fails, halt without acknowledging it."""
    message = event.message
    try:
        dead = to_dead_letter(
            event.value, event.key, error, message.topic, message.partition, message.offset
        )
        headers = dead_letter_headers(dead)
        # The event's own partition, not the key's: a record without a key would otherwise land
        # on a random partition, outside the transaction of its source (phase 5).
        await delivered(
            topics.dead_letter.send(
                key=dead.key(), value=dead, headers=headers, partition=message.partition
            )
        )
    except Exception as problem:
        halt_worker(
            f"no dead letter could be written for {message.topic} partition {message.partition} "
            f"offset {message.offset} ({error.code}): {type(problem).__name__}: {problem}; "
            "the event stays unacknowledged and is retried when a worker restarts"
        )
    return dead


async def delivered(sending: Awaitable[Awaitable[RecordMetadata]]) -> RecordMetadata:
    """Wait until the broker has the record: Faust's ``send`` returns once it is queued."""
    return await (await sending)


def failure(code: ErrorCode, error: Exception) -> MalformedReading:
    """A dead-letter reason for an exception: its type and message."""
    return MalformedReading(code, f"{type(error).__name__}: {error}")


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
