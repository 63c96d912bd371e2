"""The pipeline's Topic class: ``send`` without three trips through the event loop (provided).

Every ``topic.send(...)`` asks ``app.maybe_start_producer()`` for the producer, and Faust wraps
that method in mode's ``@stampede``, which awaits ``asyncio.sleep(0)`` three times per call. Each
of those hands the event loop to the producer's sender task, which then ships a produce request
holding only the one record queued so far: a batch of 1,000 sends became about 1,000 requests
and 3,000 loop iterations (README, "Performance"). Once the producer runs, the answer never
changes, so this class returns it directly and keeps Faust's own path for the first send.

The app is built with ``Topic=PipelineTopic`` (app/faust_app.py): the extension point Faust
offers, not a patch. ``_get_producer`` is private to Faust; tests/test_topic.py fails if an
upgrade removes it or changes what it returns.
"""

from __future__ import annotations

import typing

import faust
from faust.types import ProducerT


class PipelineTopic(faust.Topic):
    """A Faust Topic whose sends reach the producer without yielding to the event loop."""

    @typing.override
    async def _get_producer(self) -> ProducerT:
        app = self.app
        if app.in_transaction:
            # What maybe_start_producer returns under exactly_once: the transaction manager.
            return typing.cast(ProducerT, app.consumer.transactions)
        if app.producer.started:
            return app.producer
        return await super()._get_producer()  # not started yet: Faust's path starts it once
