"""Task 2.5: the enrichment agent again, one broker round trip per batch instead of per event.

Task 2.4's agent waits for the broker's answer to each event before it takes the next one: one
round trip (a few milliseconds with ``acks=all``) per event caps it at a few hundred events per
second, whatever the machine. Here you keep every promise of task 2.4 (one outcome per event, the
same enriched readings and dead letters, a halt when not even a dead letter can be written) and
pay one round trip per BATCH of events:

1. ``stream.take_events(BATCH_SIZE, BATCH_WITHIN_S)`` gives you lists of events: up to
   BATCH_SIZE at a time, or fewer once BATCH_WITHIN_S seconds pass without a full batch. Faust
   acknowledges a batch's events only when your loop body asks for the next batch.
2. For every event of the batch, queue its outcome exactly as task 2.4 decides it
   (``await topic.send(...)`` returns the delivery future without waiting for it), each send
   inside ``with outputs_of(event):``. Faust's current event is the batch's LAST one; under
   exactly_once an outcome commits with the offset of the event it is sent for: name it.
3. Await all the batch's deliveries together (``asyncio.gather(..., return_exceptions=True)``
   tells you which ones were refused, without stopping at the first).
4. Each refused enriched reading: dead-letter THAT event (SEND_FAILED), and await those dead
   letters too. A refused dead letter (from step 2 or from here): ``halt_worker(reason)``, before
   the loop body hands the batch back: nothing of the batch may be acknowledged.
5. Yield one outcome per event, in the batch's order, then let the loop take the next batch.

The agent is named ``enrich_readings_in_batches``; the worker runs it instead of task 2.4's agent
once this module no longer raises its NotImplementedError (README, "Which agent the worker runs").
Use the names imported below as they are (``classify(...)``): a test replaces ``classify`` in
this module with one that raises, to play a bug on one event. You may copy task 2.4's helpers in
here; do not import katas.phase2.enrichment (importing it registers its agent too).

Run: ``uv run pytest katas/phase2/test_batching.py``; compare both agents: ``uv run kata bench 2``.
"""

from __future__ import annotations

import asyncio  # noqa: F401
from collections.abc import AsyncIterator
from typing import cast

from faust import Stream
from faust.types import StreamT

from app.config import (
    ErrorCode,  # noqa: F401
    settings,
)
from app.faust_app import app, topics
from app.halt import halt_worker  # noqa: F401
from app.models import DeadLetter, EnrichedReading, MalformedReading  # noqa: F401
from app.transport import outputs_of  # noqa: F401
from katas.phase2.classify import classify  # noqa: F401
from katas.phase2.dead_letter import dead_letter_headers, to_dead_letter  # noqa: F401
from katas.phase2.validation import parse_reading  # noqa: F401

# Provided, chosen by measurement (README, "Performance"): keep them, or measure your own.
BATCH_SIZE = settings.batch_size  # events handled together at most (KATA_BATCH_SIZE)
BATCH_WITHIN_S = settings.batch_within  # s a partial batch waits for company (KATA_BATCH_WITHIN)


@app.agent(topics.readings)
async def enrich_readings_in_batches(
    stream: StreamT[bytes],
) -> AsyncIterator[EnrichedReading | DeadLetter]:
    """Every raw reading becomes an EnrichedReading or a DeadLetter, a batch at a time."""
    # StreamT (the agent's declared type) lacks take_events; the stream given is a Stream.
    batches = cast(Stream[bytes], stream).take_events(BATCH_SIZE, BATCH_WITHIN_S)
    async for _events in batches:
        raise NotImplementedError("task 2.5: batch the round trips — run `uv run kata hint 2.5`")
        yield  # unreachable until you write the body; it makes this function an async generator
