"""Task 2.5: the enrichment agent, one round trip per batch (reference solution)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from typing import NoReturn, cast

from faust import Stream
from faust.types import EventT, StreamT
from faust.types.tuples import RecordMetadata

from app.config import ErrorCode, settings
from app.faust_app import app, topics
from app.halt import halt_worker
from app.models import DeadLetter, EnrichedReading, MalformedReading, SensorReading
from app.transport import outputs_of
from katas.phase2.classify import classify
from katas.phase2.dead_letter import dead_letter_headers, to_dead_letter
from katas.phase2.validation import parse_reading

# Measured with tests/benchmarks/bench_throughput.py (README, "Performance"): bigger batches
# gained nothing more, and a partial batch waits at most BATCH_WITHIN_S for company.
BATCH_SIZE = settings.batch_size  # events handled together at most (KATA_BATCH_SIZE)
BATCH_WITHIN_S = settings.batch_within  # s a partial batch waits for company (KATA_BATCH_WITHIN)

Outcome = EnrichedReading | DeadLetter


@app.agent(topics.readings)
async def enrich_readings_in_batches(
    stream: StreamT[bytes],
) -> AsyncIterator[Outcome]:
    """Task 2.4's promise, one round trip per batch: yields one outcome per event, in order."""
    # take_events acknowledges a batch's events only when the body asks for the next batch
    # (in a finally): every outcome below is delivered before any event of the batch is acked.
    # StreamT (the agent's declared type) lacks take_events; the stream given is a Stream.
    batches = cast(Stream[bytes], stream).take_events(BATCH_SIZE, BATCH_WITHIN_S)
    async for events in batches:
        for outcome in await enrich_batch(events):
            yield outcome


@dataclass
class Pending:
    """One event's outcome on its way to the broker."""

    event: EventT[bytes]
    outcome: Outcome
    delivery: Awaitable[RecordMetadata]


async def enrich_batch(events: Sequence[EventT[bytes]]) -> list[Outcome]:
    """Send every event's outcome, await the deliveries together; return the outcomes in order.

    A refused enriched reading becomes a SEND_FAILED dead letter (that event only); a refused
    dead letter halts the worker before any event of the batch is acknowledged.
    """
    pending = [await send_outcome(event) for event in events]
    retried: list[int] = []
    for index, error in (await refused(pending)).items():
        if isinstance(pending[index].outcome, DeadLetter):  # nowhere left to put this event
            halt_for(pending[index].event, error)
        failed = failure(ErrorCode.SEND_FAILED, error)
        pending[index] = await queue_dead_letter(pending[index].event, failed)
        retried.append(index)
    for index, error in (await refused([pending[i] for i in retried])).items():
        halt_for(pending[retried[index]].event, error)
    return [p.outcome for p in pending]


async def refused(pending: list[Pending]) -> dict[int, BaseException]:
    """Await every delivery together; the refused ones by position."""
    answers = await asyncio.gather(*(p.delivery for p in pending), return_exceptions=True)
    return {
        index: answer for index, answer in enumerate(answers) if isinstance(answer, BaseException)
    }


async def send_outcome(event: EventT[bytes]) -> Pending:
    """Queue the event's enriched reading, or its dead letter; never raises."""
    try:
        enriched = enrich(parse_reading(event.value))
    except MalformedReading as error:
        return await queue_dead_letter(event, error)
    except Exception as error:  # a bug on this one event: dead-letter it, keep going
        return await queue_dead_letter(event, failure(ErrorCode.PROCESSING_FAILED, error))
    try:
        # Keyed by sensor: one sensor's readings stay in one partition, in order. Sent as this
        # event's output: under exactly_once it commits with this event's offset, not the last's.
        with outputs_of(event):
            delivery = await topics.enriched.send(key=enriched.sensor_id, value=enriched)
    except Exception as error:  # refused before it was even queued (too large, ...)
        return await queue_dead_letter(event, failure(ErrorCode.SEND_FAILED, error))
    return Pending(event, enriched, delivery)


async def queue_dead_letter(event: EventT[bytes], error: MalformedReading) -> Pending:
    """Queue the event's dead letter; halt if it cannot even be queued."""
    message = event.message
    try:
        dead = to_dead_letter(
            event.value, event.key, error, message.topic, message.partition, message.offset
        )
        # The event's own partition, sent as this event's output (see send_outcome).
        with outputs_of(event):
            delivery = await topics.dead_letter.send(
                key=dead.key(),
                value=dead,
                headers=dead_letter_headers(dead),
                partition=message.partition,
            )
    except Exception as problem:
        halt_for(event, problem)
    return Pending(event, dead, delivery)


def halt_for(event: EventT[bytes], problem: BaseException) -> NoReturn:
    """No outcome can be written for ``event``: stop before any event of the batch is acked."""
    message = event.message
    halt_worker(
        f"no dead letter could be written for {message.topic} partition {message.partition} "
        f"offset {message.offset}: {type(problem).__name__}: {problem}; the batch stays "
        "unacknowledged and is retried when a worker restarts"
    )


def failure(code: ErrorCode, error: BaseException) -> MalformedReading:
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
