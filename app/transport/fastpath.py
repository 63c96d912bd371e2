"""A cheaper delivery loop for Faust's consumer, under at_least_once (provided; read it).

Faust's consumer hands every fetched record to the streams in ``Consumer._drain_messages``
(faust/transport/consumer.py), one record at a time::

    await self.wait_first(callback(message), self.suspend_flow.wait())

``wait_first`` (mode) wraps that in four tasks (the delivery, the flow's suspension, the
service's stop, its crash) and an ``asyncio.wait``: four tasks created, scheduled and cancelled
and at least one trip through the event loop per record, although the delivery itself (the
conductor puts the event into the stream's queue) almost never has to wait. That was the largest
share of Faust's CPU time per event in the phase 2 benchmark (README, "Performance").

``FastDrain._drain_messages`` is the same loop, with the delivery started as an eager task
(Python 3.12's ``eager_start``): it runs at once, up to its first real wait. A delivery that
finished there (the queue had room, no rebalance under way) costs no scheduling and no other
task; only one that really waits goes through Faust's ``wait_first`` with the flow's suspension,
as before. Everything else is Faust's loop, line for line: the read offsets (a record below the
last read one is dropped), the gaps of acknowledged topics, ``broker_commit_every``, a yield to
the event loop every ``YIELD_EVERY`` records, the stop of the consumer or the fetcher, and the
errors that end it.

Flow control is Faust's: ``getmany`` yields nothing while the flow is stopped and stops yielding
the moment it is; a delivery that waits still gives way to ``suspend_flow`` (it is cancelled, as
under Faust); paused and buffer-full partitions are never fetched (``getmany`` asks only for the
active ones).

At-least-once only. Under exactly_once the mixin hands over to Faust's own loop: with this loop,
tests/test_crash_exactly_once.py failed 2 runs of 4 (a window counted 9 readings instead of 10)
and the cause was not found, so exactly_once keeps the loop its proofs were made on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, cast, override

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from mode import ServiceT

from app.transport import private

YIELD_EVERY = 100  # records between two yields to the event loop (Faust's own figure)

if TYPE_CHECKING:  # mypy sees the consumer's methods; at run time the mixin is a plain class
    _Base = faust_aiokafka.Consumer
else:
    _Base = object


class FastDrain(_Base):
    """Faust's ``_drain_messages`` with eager deliveries, under at_least_once."""

    # Set by each loop: True while the fast loop runs (tests/test_fastpath.py asks).
    fast_path_running: bool = False

    @override
    async def _drain_messages(self, fetcher: ServiceT) -> None:
        if self.in_transaction:
            # exactly_once: Faust's own loop (see the module's docstring: the crash test failed
            # with this one, cause not found).
            await super()._drain_messages(fetcher)
            return
        self.fast_path_running = True
        try:
            await self._drain_eagerly(fetcher)
        finally:
            self.fast_path_running = False

    async def _drain_eagerly(self, fetcher: ServiceT) -> None:
        callback = self.callback
        loop = asyncio.get_running_loop()
        read_offsets = private.read_offsets(self)
        commit_every = private.commit_every(self)
        acks_enabled_for = self.app.topics.acks_enabled_for
        set_flag, unset_flag = self.diag.set_flag, self.diag.unset_flag
        since_yield = 0
        try:
            while not (self.should_stop or fetcher.should_stop):
                set_flag(CONSUMER_FETCHING)
                records = self.getmany(timeout=1.0)
                await self.sleep(0)  # getmany may return at once, again and again
                if self.should_stop:
                    continue
                async for tp, message in records:
                    since_yield += 1
                    if since_yield > YIELD_EVERY:
                        await asyncio.sleep(0)
                        since_yield = 0
                    offset = message.offset
                    last_read = read_offsets[tp]
                    if last_read is not None and offset < last_read:
                        continue  # read already (Faust drops it too)
                    if last_read and offset - last_read > 1 and acks_enabled_for(message.topic):
                        await self._add_gap(tp, last_read + 1, offset)
                    if commit_every is not None and private.acked_since_commit(self) >= (
                        commit_every
                    ):
                        private.reset_acked_since_commit(self)
                        await self.commit()
                    delivery: asyncio.Task[Any] = asyncio.Task(
                        cast(Coroutine[Any, Any, Any], callback(message)),
                        loop=loop,
                        eager_start=True,
                    )
                    if delivery.done():
                        delivery.result()  # its error ends the loop, as under Faust
                    else:  # it waits: Faust's way, giving way to a suspended flow
                        await self.wait_first(delivery, self.suspend_flow.wait())
                    read_offsets[tp] = offset
                unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)
