"""The consumer's delivery loop under at_least_once (app/transport/fastpath.py), without a broker.

Each test runs the consumer the app's transport builds, with Faust's own ``getmany`` (its flow
control, its active partitions) over a stand-in fetcher (``Broker``: the records aiokafka would
have fetched) and a stand-in for the streams (behind the transport's ``deliver``, it records what
reaches them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.types import TP, Message
from mode import Service

from app.transport import private, transport_url
from app.transport.drivers import Consumer
from tests.test_commit_barrier import transport_consumer

TOPIC = "fast-sensor-readings"


def new_consumer(guarantee: str) -> Consumer:
    """The app's transport's consumer; never started, no broker is contacted."""
    app = faust.App(
        f"fastpath-{guarantee}",
        broker=transport_url("kafka://127.0.0.1:1"),
        processing_guarantee=guarantee,
        autodiscover=False,
        broker_commit_every=50,
    )
    app.in_worker = True  # as faust.Worker sets it: only a worker runs transactions
    app.finalize()
    app.on_rebalance_start()  # past the first rebalance: deliveries are not held (race 5)
    app.on_rebalance_end()

    return transport_consumer(app)


class Broker:
    """What the fetcher hands Faust's ``getmany``: up to ``batch`` records per partition a call.

    Like a fetcher that prefetched, it returns records of every partition that has some, paused
    or not: Faust's ``getmany`` must keep the paused ones back.
    """

    def __init__(self, offsets: Mapping[int, Iterable[int]], batch: int = 64) -> None:
        self.left = {partition: list(o) for partition, o in offsets.items()}
        self.batch = batch
        self.calls = 0

    async def getmany(self, active_partitions: set[TP] | None, timeout: float) -> dict[TP, Any]:
        self.calls += 1
        await asyncio.sleep(0.005)  # a fetch takes a while, as on a real broker
        records: dict[TP, Any] = {}
        for partition, offsets in self.left.items():
            taken, self.left[partition] = offsets[: self.batch], offsets[self.batch :]
            if taken:
                records[TP(TOPIC, partition)] = [record(partition, o) for o in taken]
        return records

    def drained(self) -> bool:
        return not any(self.left.values())


def record(partition: int, offset: int) -> SimpleNamespace:
    """An aiokafka ConsumerRecord, as Faust's ``_to_message`` reads it."""
    return SimpleNamespace(
        topic=TOPIC,
        partition=partition,
        offset=offset,
        timestamp=1_700_000_000_000,
        timestamp_type=0,
        headers=[],
        key=b"k",
        value=b"v",
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=1,
    )


class Streams:
    """Stands in for the conductor: records each message, acknowledges it if asked to."""

    def __init__(self, consumer: Consumer, ack: bool = False) -> None:
        self.consumer = consumer
        self.delivered: list[Message] = []
        self.fast_path_seen: set[bool] = set()
        self.ack = ack
        self.hold: Callable[[Message], asyncio.Event | None] = lambda message: None

    async def __call__(self, message: Message) -> None:
        self.fast_path_seen.add(self.consumer.fast_path_running)
        held = self.hold(message)
        if held is not None:
            await held.wait()  # a stream whose queue is full, say
        self.delivered.append(message)
        if self.ack:
            self.consumer.ack(message)

    def offsets(self, partition: int) -> list[int]:
        return [m.offset for m in self.delivered if m.partition == partition]


class Running:
    """The consumer's ``_drain_messages`` (what Faust's Fetcher runs) over ``broker``."""

    def __init__(self, consumer: Consumer, broker: Broker, streams: Streams) -> None:
        self.consumer, self.broker, self.streams = consumer, broker, streams
        self.fetcher = Service()
        patch: Any = consumer
        patch._getmany = broker.getmany
        patch.highwater = lambda tp: 10_000
        patch._deliver = streams  # behind the transport's own delivery rules (races 3 to 5)
        consumer.resume_partitions({TP(TOPIC, p) for p in broker.left})
        self.task = asyncio.create_task(consumer._drain_messages(self.fetcher))

    async def until(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not done():
                if self.task.done():
                    self.task.result()  # its error, else: it ended too early
                    raise AssertionError("the delivery loop ended before the test stopped it")
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await self.fetcher.stop()
        await asyncio.wait_for(self.task, timeout=3)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_the_fast_path_runs_under_at_least_once_only(guarantee: str) -> None:
    consumer = new_consumer(guarantee)
    streams = Streams(consumer)
    running = Running(consumer, Broker({0: range(10)}), streams)
    await running.until(lambda: len(streams.delivered) == 10)
    await running.stop()
    expected = guarantee == "at_least_once"
    assert streams.fast_path_seen == {expected}, (
        f"under {guarantee} the records went through the fast path: {streams.fast_path_seen}; "
        f"expected {expected} (exactly_once keeps Faust's own loop)"
    )
    assert streams.offsets(0) == list(range(10))


async def test_every_record_is_delivered_once_in_order_per_partition() -> None:
    consumer = new_consumer("at_least_once")
    streams = Streams(consumer)
    # Partition 1 is fetched again from offset 100 (a fetcher that went back): read already.
    # (Faust's loop lets the last offset read through once more; race 4 stops that one.)
    offsets = {0: range(500), 1: [*range(250), *range(100, 300)], 2: range(7)}
    running = Running(consumer, Broker(offsets, batch=64), streams)
    await running.until(running.broker.drained)
    await running.until(lambda: len(streams.delivered) == 500 + 300 + 7)
    await running.stop()
    for partition, count in ((0, 500), (1, 300), (2, 7)):
        assert streams.offsets(partition) == list(range(count)), (
            f"partition {partition}: delivered {streams.offsets(partition)[:20]}...; expected "
            f"0..{count - 1} once each, in order"
        )


async def test_acks_advance_and_commit_every_commits() -> None:
    consumer = new_consumer("at_least_once")
    patch: Any = consumer
    patch.app.topics.acks_enabled_for = lambda topic: True
    commits: list[int] = []

    async def commit(*args: Any, **kwargs: Any) -> bool:
        commits.append(len(streams.delivered))
        return True

    patch.commit = commit
    streams = Streams(consumer, ack=True)
    # offsets 120..129 absent (a transaction's markers, compacted records): a gap
    running = Running(consumer, Broker({0: [*range(120), *range(130, 200)]}), streams)
    await running.until(lambda: len(streams.delivered) == 190)
    await running.stop()
    tp = TP(TOPIC, 0)
    assert private.acked_offsets(consumer)[tp][-1] == 199, "the acks were not recorded"
    assert commits == [50, 100, 150], (
        f"commits after {commits} records; expected one every broker_commit_every=50 acks"
    )
    assert private.acked_since_commit(consumer) == 190 - 150
    assert private.gaps(consumer, tp) == [(120, 129)], (
        f"gaps recorded: {private.gaps(consumer, tp)}; expected the missing 120..129"
    )


async def test_paused_partitions_wait_and_a_suspended_flow_stops_delivery() -> None:
    consumer = new_consumer("at_least_once")
    streams = Streams(consumer)
    held = asyncio.Event()
    streams.hold = lambda message: held if (message.partition, message.offset) == (0, 5) else None
    running = Running(consumer, Broker({0: range(20), 1: range(20)}, batch=20), streams)
    consumer.pause_partitions({TP(TOPIC, 1)})  # (Running resumed every partition)
    await running.until(lambda: running.broker.calls >= 1 and len(streams.delivered) == 5)
    await asyncio.sleep(0.1)
    assert streams.offsets(0) == list(range(5)), "a delivery that waits was passed by"
    consumer.stop_flow()  # a rebalance: the waiting delivery gives way, nothing more goes
    await asyncio.sleep(0.2)
    held.set()
    await asyncio.sleep(0.1)
    assert streams.offsets(0) == list(range(5)), (
        f"delivered {streams.offsets(0)} after the flow stopped; expected nothing after 0..4"
    )
    assert streams.offsets(1) == [], f"a paused partition was delivered: {streams.offsets(1)}"
    consumer.resume_flow()
    await running.stop()


async def test_the_loop_stops_when_the_fetcher_stops() -> None:
    consumer = new_consumer("at_least_once")
    streams = Streams(consumer)
    running = Running(consumer, Broker({0: range(3)}), streams)
    await running.until(lambda: len(streams.delivered) == 3)
    await running.stop()  # would time out if the loop went on
    assert running.task.done() and running.task.exception() is None
    assert not consumer.fast_path_running


async def test_an_error_in_a_delivery_ends_the_loop_with_it() -> None:
    consumer = new_consumer("at_least_once")
    streams = Streams(consumer)

    def broken(message: Message) -> asyncio.Event | None:
        if message.offset == 2:
            raise RuntimeError("a stream's bug")
        return None

    streams.hold = broken
    running = Running(consumer, Broker({0: range(5)}), streams)
    with pytest.raises(RuntimeError, match="a stream's bug"):
        await asyncio.wait_for(running.task, timeout=3)
    assert streams.offsets(0) == [0, 1], "records after the failed one were delivered"
