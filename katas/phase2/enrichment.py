"""Task 2.4: the enrichment agent.

Consume ``topics.readings`` (raw bytes) and, for EVERY event, send exactly one message:

- valid: an EnrichedReading (the reading + ``status`` from classify + ``processed_at`` = now)
  to ``topics.enriched``, key = the reading's ``sensor_id``;
- broken: a DeadLetter to ``topics.dead_letter``, key = the original key bytes, with the
  headers from ``dead_letter_headers``.

Then ``yield`` what you sent: one outcome per event lets the tests (and you) see every event.
Never let an event crash the agent. Send with ``await topic.send(key=..., value=...,
headers=...)``. Iterate ``stream.events()`` instead of ``stream``: an event carries
``event.key`` and ``event.message.topic / .partition / .offset`` besides ``event.value``.

Run: ``uv run pytest katas/phase2/test_enrichment.py``
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from faust.types import StreamT

from app.faust_app import app, topics
from app.models import DeadLetter, EnrichedReading


@app.agent(topics.readings)
async def enrich_readings(
    stream: StreamT[bytes],
) -> AsyncIterator[EnrichedReading | DeadLetter]:
    """Every raw reading becomes an EnrichedReading or a DeadLetter; yields what it sent."""
    async for _event in stream.events():
        raise NotImplementedError(
            "task 2.4: enrich readings, dead-letter the rest — run `uv run kata hint 2.4`"
        )
        yield  # unreachable until you write the body; it makes this function an async generator
