"""Task 2.4: the enrichment agent.

Consume ``topics.readings`` (raw bytes) and, for EVERY event, send exactly one message:

- valid: an EnrichedReading (the reading + ``status`` from classify + ``processed_at`` = now)
  to ``topics.enriched``, key = the reading's ``sensor_id``, no partition of your own;
- broken: a DeadLetter to ``topics.dead_letter``, key = ``dead.key()`` (the original key bytes,
  or their stored first bytes when the key was too long), with the headers from
  ``dead_letter_headers``, and ``partition=`` the event's own partition (a record without a key
  would otherwise land on a random one; phase 5 needs every outcome in its source's partition).

Then ``yield`` what you sent: one outcome per event lets the tests (and you) see every event.
Iterate ``stream.events()`` instead of ``stream``: an event carries ``event.key`` and
``event.message.topic / .partition / .offset`` besides ``event.value``.

Never let an event vanish. Faust acknowledges an event when your loop body is done with it, even
when the body RAISED (phase 2 README), so:

- ``await topic.send(...)`` only queues the record and returns a future: await that future too
  (``await (await topic.send(...))``) to know the broker has it;
- any other exception while handling an event (your code raised, the enriched reading was
  refused): dead-letter the event, code PROCESSING_FAILED for an exception before the send,
  SEND_FAILED for a refused send, reason ``"ExceptionType: message"``;
- if even the dead letter cannot be written: call ``halt_worker(reason)`` (app/halt.py), which
  stops the worker before Faust can acknowledge the event, so a restart retries it.

Use the names imported below as they are (``classify(...)``): a test replaces ``classify`` in this
module with one that raises, to play a bug on one event.

Run: ``uv run pytest katas/phase2/test_enrichment.py``
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from faust.types import StreamT

from app.config import ErrorCode  # noqa: F401
from app.faust_app import app, topics
from app.halt import halt_worker  # noqa: F401
from app.models import DeadLetter, EnrichedReading, MalformedReading  # noqa: F401
from katas.phase2.classify import classify  # noqa: F401
from katas.phase2.dead_letter import dead_letter_headers, to_dead_letter  # noqa: F401
from katas.phase2.validation import parse_reading  # noqa: F401


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
