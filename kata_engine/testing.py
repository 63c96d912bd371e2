"""Test harness for Faust agents, tables, timers and pages (provided): no broker needed.

Stream tests read as *input list -> output list*: put raw events into an agent, then look at
what it sent to which topic. It is built on Faust's own ``agent.test_context()``; the only thing
it replaces is each topic's ``send``, so nothing tries to reach Kafka.

Run an agent and look at what it sent::

    from kata_engine.testing import run_agent

    async def test_valid_reading_is_enriched(faust_app):       # faust_app: a plugin fixture
        async with run_agent(enrich_readings) as run:
            await run.put(b'{"sensor_id": "s-1", ...}', key=b"s-1", partition=2, offset=17)
        [message] = run.sent_to(topics.enriched)
        assert message.key == "s-1"
        assert run.results == [message.value]                 # what the agent yielded

Windowed tables under a controlled clock (Faust closes windows by wall-clock time)::

    from kata_engine.testing import close_expired_windows, frozen_clock

    with frozen_clock(at=1_700_000_000.0) as clock:
        async with run_agent(aggregate) as run:
            await run.put(reading, key="s-1", timestamp=1_700_000_005.0)
        clock.advance(120.0)
        await close_expired_windows(window_table)             # on_window_close runs now

Timers and web pages::

    await run_timer_once(log_busy_sensors)                    # the timer's body, once
    async with web_client(app) as client:
        response = await client.get("/status/")

Batches: ``run.put_many([(value, key), ...])`` queues several events at once (an agent that
uses ``stream.take_events`` takes them together) and waits until each has an outcome;
``run_agent(agent, refuse=...)`` refuses single records, ``answer_after=0.05`` makes the played
broker answer each delivery late, and ``run.acked_at_halt`` says which events were acknowledged
at the moment the agent halted.

Every ``put`` waits for the agent to finish the event, at most ``timeout`` seconds (5 by
default). An agent that skips an event without yielding never signals that it finished
(Faust issue #621), so write agents that yield one outcome for every event. After one such
timeout, later puts to the same agent in the same test run fail at once with the same message.

Captured sends behave like the real producer: ``await topic.send(...)`` returns a future of the
delivery, the key, value and headers are serialized as Faust would, and a record larger than the
app's ``producer_max_request_size`` is refused with the producer's error. A broker that refuses a
topic's records can be played with ``run_agent(agent, refused={topic: SomeKafkaError()})``, and
``app.halt.halt_worker`` raises WorkerHalted instead of ending the test run.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import faust
import faust.tables.base
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faust.exceptions import ProducerSendError
from faust.types import AgentT, EventT, TopicT
from faust.types.tuples import TP, RecordMetadata

from app.transport.transactions import source_partition

DEFAULT_TIMEOUT = 5.0  # seconds a put() may take before the test fails

# Agents (by name) whose put timed out in this run: later puts fail at once with this message.
_timed_out: dict[str, str] = {}


class WorkerHalted(Exception):
    """The agent called ``app.halt.halt_worker``: a worker would have exited without acking."""

    def __init__(self, code: int, line: str) -> None:
        super().__init__(line)
        self.code = code
        self.line = line


@dataclass(frozen=True)
class SentMessage:
    """One message an agent sent to a topic, as it passed it to ``topic.send``."""

    topic: str
    key: Any
    value: Any
    headers: Any
    partition: int | None
    answered_before: int = 0  # deliveries (of any topic) the broker had answered when queued
    # The partition whose transaction it goes under in a worker (app/transport/transactions.py,
    # ``outputs_of``): under exactly_once it commits with that partition's offsets.
    source: TP | None = None


# Decides, per captured message, whether the broker refuses it: an exception, or None to accept.
Refuse = Callable[[SentMessage], BaseException | None]


@dataclass
class AgentRun:
    """A running agent under test: put events in, read what came out."""

    wrapper: Any  # Faust's AgentTestWrapper (untyped in Faust)
    sent: list[SentMessage] = field(default_factory=list)
    events: list[EventT[Any]] = field(default_factory=list)  # every event put, in order
    # Whether each event put so far was acknowledged at the moment the agent halted (None: no halt).
    acked_at_halt: list[bool] | None = None

    async def put(
        self,
        value: Any,
        *,
        key: Any = None,
        partition: int = 0,
        offset: int | None = None,
        timestamp: float | None = None,
        headers: dict[str, bytes] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> EventT[Any]:
        """Deliver one event and wait until the agent has processed it.

        ``offset`` defaults to the next offset (0, 1, 2, ...). The agent's own exception,
        if it raises, is re-raised here.
        """
        agent_name = str(getattr(self.wrapper, "name", "the agent"))
        if agent_name in _timed_out:
            raise AssertionError(_timed_out[agent_name] + " (failed at once: it did before)")
        if offset is not None:
            self.wrapper.sent_offset = offset  # Faust numbers test events from this counter
        put = self.wrapper.put(
            value, key=key, partition=partition, timestamp=timestamp, headers=headers
        )
        try:
            event: EventT[Any] = await asyncio.wait_for(put, timeout)
        except TimeoutError:
            message = (
                f"{agent_name} did not finish processing an event within {timeout:g} s: does it "
                "yield for every event? It must yield exactly once per event it takes (a "
                "`continue` or `return` that skips the yield makes put() wait forever); later "
                "puts to it in this run fail at once"
            )
            _timed_out[agent_name] = message
            raise AssertionError(message) from None
        self.events.append(event)
        return event

    async def put_many(
        self,
        records: Iterable[tuple[Any, Any]],
        *,
        partition: int = 0,
        partitions: Iterable[int] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[EventT[Any]]:
        """Deliver ``(value, key)`` records all at once, then wait until each has an outcome.

        Unlike ``put``, the agent may take them together (``stream.take_events``): the next
        record is queued before the agent has finished the previous one. Offsets continue from
        the last put. Every record comes from ``partition``, or from the partition ``partitions``
        gives it, one per record. The agent's own exception, if it raises, is re-raised here.
        """
        agent_name = str(getattr(self.wrapper, "name", "the agent"))
        if agent_name in _timed_out:
            raise AssertionError(_timed_out[agent_name] + " (failed at once: it did before)")
        wrapper = self.wrapper
        put: list[EventT[Any]] = []
        batch = list(records)
        sources = list(partitions) if partitions is not None else [partition] * len(batch)
        if len(sources) != len(batch):
            raise ValueError(f"{len(batch)} records but {len(sources)} partitions")
        for (value, key), source in zip(batch, sources, strict=True):
            event = await wrapper.put(value, key=key, partition=source, wait=False)
            put.append(event)
            self.events.append(event)
        target = len(wrapper.results) + len(put)

        def finished() -> bool:
            return len(wrapper.results) >= target or _crash_reason(wrapper) is not None

        async def all_processed() -> None:
            async with wrapper.new_value_processed:
                await wrapper.new_value_processed.wait_for(finished)

        try:
            await asyncio.wait_for(all_processed(), timeout)
        except TimeoutError:
            message = (
                f"{agent_name} yielded {len(wrapper.results) - target + len(put)} outcome(s) "
                f"for {len(put)} events put together, within {timeout:g} s: it must yield "
                "exactly once per event, also for the events of a last, partial batch; later "
                "puts to it in this run fail at once"
            )
            _timed_out[agent_name] = message
            raise AssertionError(message) from None
        crash = _crash_reason(wrapper)
        if crash is not None:
            raise crash
        return put

    def note_halt(self) -> None:
        """Remember which events were acknowledged when the agent halted (first halt only)."""
        if self.acked_at_halt is None:
            self.acked_at_halt = [bool(event.message.acked) for event in self.events]

    @property
    def results(self) -> list[Any]:
        """What the agent yielded, in order."""
        results: dict[int, Any] = self.wrapper.results
        return [results[index] for index in sorted(results)]

    def sent_to(self, topic: TopicT | str) -> list[SentMessage]:
        """The messages sent to one topic (a topic object or its name), in order."""
        name = topic if isinstance(topic, str) else topic_name(topic)
        return [message for message in self.sent if message.topic == name]


def _crash_reason(wrapper: Any) -> BaseException | None:
    # Private to Faust's AgentTestWrapper (its own put reads it): the agent's exception.
    reason: BaseException | None = wrapper._crash_reason
    return reason


def topic_name(topic: TopicT) -> str:
    """The single name of a topic object."""
    return topic.get_topic_name()


def pipeline_topics() -> list[TopicT]:
    """The four topics of app.faust_app: every topic a kata agent may send to."""
    from app.faust_app import topics

    return [topics.readings, topics.enriched, topics.dead_letter, topics.window_aggregates]


def serialized_size(topic: TopicT, key: Any, value: Any, headers: Any) -> int:
    """The size the producer computes for one record, serialized as Faust serializes it.

    Serialization errors (a key that is not text, a value the codec cannot write) are raised here,
    as they are by the real ``send``.
    """
    channel: Any = topic  # ChannelT's stubs lack the schema/headers arguments Faust passes
    open_headers = channel.prepare_headers(headers)
    key_bytes, open_headers = channel.prepare_key(key, None, None, open_headers)
    value_bytes, open_headers = channel.prepare_value(value, None, None, open_headers)
    pairs = list(open_headers.items()) if isinstance(open_headers, dict) else open_headers or []
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key_bytes, value_bytes, pairs))


@contextmanager
def capture_sends(
    topics: Iterable[TopicT],
    into: list[SentMessage],
    *,
    refused: dict[str, BaseException] | None = None,
    refuse: Refuse | None = None,
    answer_after: float = 0.0,
    slow: dict[str, float] | None = None,
) -> Iterator[None]:
    """Record every ``topic.send(...)`` into ``into`` instead of producing to Kafka.

    Only ``send`` is replaced (as an instance attribute, removed again afterwards); an agent that
    sends with ``send_soon`` or through a sink topic still needs a broker. Like Faust's, the fake
    returns a future of the delivery; a record over ``producer_max_request_size`` raises
    ProducerSendError(MessageSizeTooLargeError) at once, as the real producer does, and a topic
    named in ``refused`` fails its delivery futures with the given exception (nothing recorded),
    and so does every message for which ``refuse(message)`` returns an exception. The broker
    answers each delivery ``answer_after`` seconds after it was queued (at once by default), as a
    real one answers after a round trip. A topic named in ``slow`` answers its deliveries only
    after the given seconds instead, like a broker that takes its time: what else runs meanwhile
    shows races.
    """
    patched: list[TopicT] = []
    refusals = refused or {}
    delays = slow or {}
    answered = [0]  # deliveries answered so far, all topics

    def answer(delivery: asyncio.Future[RecordMetadata], outcome: Any) -> None:
        answered[0] += 1
        if isinstance(outcome, BaseException):
            delivery.set_exception(outcome)
        else:
            delivery.set_result(outcome)

    def answer_later(delivery: asyncio.Future[RecordMetadata], outcome: Any, name: str) -> None:
        delay = delays.get(name, answer_after)
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, answer, delivery, outcome)
        else:
            answer(delivery, outcome)

    def fake_send_for(topic: TopicT) -> Callable[..., Awaitable[Awaitable[RecordMetadata]]]:
        name = topic_name(topic)

        async def fake_send(
            *,
            key: Any = None,
            value: Any = None,
            partition: int | None = None,
            headers: Any = None,
            **_options: Any,
        ) -> Awaitable[RecordMetadata]:
            size = serialized_size(topic, key, value, headers)
            limit = int(topic.app.conf.producer_max_request_size)
            if size > limit:
                error = MessageSizeTooLargeError(
                    f"The message is {size} bytes when serialized which is larger than the "
                    "maximum request size you have configured with the max_request_size "
                    "configuration"
                )
                raise ProducerSendError(f"Error while sending: {error!r}") from error
            delivery: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
            message = SentMessage(
                name, key, value, headers, partition, answered[0], source=source_partition()
            )
            refusal = refusals.get(name) or (refuse(message) if refuse else None)
            if refusal is not None:
                answer_later(delivery, refusal, name)
                return delivery
            offset = sum(1 for sent in into if sent.topic == name)
            into.append(message)
            answer_later(
                delivery,
                RecordMetadata(
                    topic=name,
                    partition=partition or 0,
                    topic_partition=TP(name, partition or 0),
                    offset=offset,
                    timestamp=time.time(),
                    timestamp_type=0,
                ),
                name,
            )
            return delivery

        return fake_send

    try:
        for topic in topics:
            patchable: Any = topic  # Topic.send is a method: mypy won't let us assign it
            patchable.send = fake_send_for(topic)
            patched.append(topic)
        yield
    finally:
        for topic in patched:
            del topic.send  # back to the class's real send


@asynccontextmanager
async def run_agent(
    agent: AgentT[Any],
    *,
    capture: Iterable[TopicT] | None = None,
    refused: dict[TopicT, BaseException] | None = None,
    refuse: Refuse | None = None,
    answer_after: float = 0.0,
    slow: dict[TopicT, float] | None = None,
) -> AsyncIterator[AgentRun]:
    """Run ``agent`` in Faust's test context, capturing its sends to ``capture``.

    ``capture`` defaults to the pipeline's four topics (app.faust_app.topics). ``refused`` maps a
    topic to the exception its deliveries fail with, as if the broker refused the records;
    ``refuse`` refuses single messages: it is called with each SentMessage and returns the
    exception its delivery fails with, or None to accept it. ``answer_after`` delays every
    delivery's answer by that many seconds (a broker round trip). When the agent halts,
    ``run.acked_at_halt`` says which of the events put so far were acknowledged at that moment.
    ``slow`` maps a topic to the seconds each of its deliveries takes.
    """
    run = AgentRun(wrapper=None)
    refusals = {topic_name(topic): error for topic, error in (refused or {}).items()}
    delays = {topic_name(topic): seconds for topic, seconds in (slow or {}).items()}
    topics = pipeline_topics() if capture is None else capture
    with (
        capture_sends(
            topics,
            run.sent,
            refused=refusals,
            refuse=refuse,
            answer_after=answer_after,
            slow=delays,
        ),
        halts_raise(on_halt=run.note_halt),
    ):
        async with agent.test_context() as wrapper:
            run.wrapper = wrapper
            yield run


@contextmanager
def halts_raise(on_halt: Callable[[], None] | None = None) -> Iterator[None]:
    """Make ``app.halt.halt_worker`` raise WorkerHalted instead of ending the process.

    ``on_halt`` runs first, at the moment of the halt: a real worker ends there, so whatever is
    acknowledged after it (Faust's ``finally`` runs in a test) would not be in a worker.
    """
    from app import halt

    def raise_halted(code: int, line: str) -> Any:
        if on_halt is not None:
            on_halt()
        raise WorkerHalted(code, line)

    real_exit = halt.exit_process
    halt.exit_process = raise_halted
    try:
        yield
    finally:
        halt.exit_process = real_exit


def reset_tables(app: faust.App) -> None:
    """Empty every table of ``app``: module-level tables otherwise keep data across tests."""
    for table in app.tables.values():
        table.data.clear()
        # Window bookkeeping (private to Faust) would otherwise close old windows in a later test.
        for name in ("_partition_timestamps", "_partition_timestamp_keys"):
            bookkeeping = getattr(table, name, None)
            if bookkeeping is not None:
                bookkeeping.clear()
        latest = getattr(table, "_partition_latest_timestamp", None)
        if latest is not None:
            latest.clear()
        if hasattr(table, "last_closed_window"):
            table.last_closed_window = 0.0


def prepare_app(app: faust.App) -> faust.App:
    """Make ``app`` usable by test contexts on the running event loop (call inside a test)."""
    app.loop = asyncio.get_running_loop()
    app.finalize()
    app.flow_control.resume()  # Faust starts with flow control paused until a worker starts
    return app


@asynccontextmanager
async def prepared_app(app: faust.App) -> AsyncIterator[faust.App]:
    """``prepare_app`` plus empty tables before and after: the body of the ``faust_app`` fixture."""
    prepare_app(app)
    reset_tables(app)
    try:
        yield app
    finally:
        reset_tables(app)


@dataclass
class Clock:
    """A wall clock that stands still until you move it."""

    now: float

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock forward; returns the new time."""
        self.now += seconds
        return self.now


@contextmanager
def frozen_clock(at: float) -> Iterator[Clock]:
    """Freeze wall-clock time as Faust's tables see it (window cleanup and ``.now()``).

    Only Faust's table module sees the frozen time; asyncio, logging and the rest of the
    process keep the real clock.
    """
    clock = Clock(at)
    tables_module: Any = faust.tables.base
    real_time = tables_module.time
    # faust.tables.base does ``import time`` and calls ``time.time()``: swap that one name.
    tables_module.time = SimpleNamespace(time=clock.time)
    try:
        yield clock
    finally:
        tables_module.time = real_time


async def close_expired_windows(table: Any) -> None:
    """Run the window cleanup of ``table`` now (a windowed table or its wrapper).

    A worker runs this every ``table_cleanup_interval`` seconds; it deletes windows whose end plus
    ``expires`` lies before the (frozen) wall clock and calls ``on_window_close`` for them.
    """
    table = getattr(table, "table", table)  # WindowWrapper -> Table
    # Private Faust API, wrapped here in one place: the only way to close windows on demand.
    await table._del_old_keys()


async def run_timer_once(timer: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run the body of an ``@app.timer`` / ``@app.crontab`` function once."""
    # The decorated function's __wrapped__ chain ends at the body; __wrapped__ alone is the
    # endless timer loop.
    body = inspect.unwrap(timer)
    return await body(*args)


_initialised_webs: weakref.WeakSet[Any] = weakref.WeakSet()


@asynccontextmanager
async def web_client(app: faust.App) -> AsyncIterator[TestClient[Any, Any]]:
    """An aiohttp test client for the app's web pages, served on a free loopback port."""
    if app.web not in _initialised_webs:  # init_server registers Faust's own routes: once
        app.web.init_server()
        _initialised_webs.add(app.web)
    served = _copy_routes(app.web.web_app)  # type: ignore[attr-defined]
    async with TestClient(TestServer(served, host="127.0.0.1")) as client:
        yield client


def _copy_routes(source: web.Application) -> web.Application:
    # An aiohttp Application binds to the first event loop that serves it, and every test has
    # its own loop: serve a fresh Application with the same routes each time.
    copy = web.Application()
    for route in source.router.routes():
        if route.resource is None or route.method == "OPTIONS":
            continue  # CORS preflight routes: tests don't need them
        copy.router.add_route(route.method, route.resource.canonical, route.handler)
    return copy


@dataclass(frozen=True)
class Forwarded:
    """One event re-sent by ``event.forward`` (what ``stream.group_by`` does for every event)."""

    channel: str
    key: Any
    value: Any
    # The end Faust gives the repartition topic's name ("-<group_by name>-repartition"): in a
    # worker the topic is "<agent>-<source topic><suffix>". None: not a group_by channel.
    suffix: str | None = None


@contextmanager
def record_forwards() -> Iterator[list[Forwarded]]:
    """Record every ``event.forward(...)``: proves that a stream repartitions, and by which key.

    ``stream.group_by(key)`` forwards each event to its repartition topic with the new key. In
    the test context the agent reads an in-memory channel, and Faust "derives" the repartition
    channel of an in-memory channel as that same channel, so events could reach the grouped
    stream without being repartitioned. Inside this block a derived channel is a new in-memory
    channel: every event takes the repartition path, as it does through Kafka in a worker.
    Start the agent (``run_agent``) inside the block.
    """
    import faust.channels
    import faust.events

    forwarded: list[Forwarded] = []
    event_class: Any = faust.events.Event
    channel_class: Any = faust.channels.Channel
    real_forward = event_class.forward
    real_derive = channel_class.derive
    wrapper_class: Any = faust.agents.agent.AgentTestWrapper
    real_stream = wrapper_class.stream

    suffixes: dict[int, str] = {}  # id(derived channel) -> the suffix group_by asked for

    async def forward(self: Any, channel: Any, *args: Any, **kwargs: Any) -> Any:
        key = kwargs.get("key", args[0] if args else self.message.key)
        value = kwargs.get("value", args[1] if len(args) > 1 else self.message.value)
        name = channel if isinstance(channel, str) else str(getattr(channel, "label", channel))
        forwarded.append(Forwarded(name, key, value, suffixes.get(id(channel))))
        return await real_forward(self, channel, *args, **kwargs)

    def derive(self: Any, **options: Any) -> Any:
        # Topic overrides derive; only in-memory channels get here.
        derived: Any = faust.channels.Channel(
            app=self.app,
            schema=self.schema,
            key_type=self.key_type,
            value_type=self.value_type,
            maxsize=self.maxsize,
        )
        if options.get("suffix"):
            suffixes[id(derived)] = str(options["suffix"])
        return derived

    def first_stream(self: Any, *_args: Any, **_kwargs: Any) -> Any:
        return self._stream  # the stream the agent was given, before any group_by

    event_class.forward = forward
    channel_class.derive = derive
    wrapper_class.stream = first_stream
    try:
        yield forwarded
    finally:
        event_class.forward = real_forward
        channel_class.derive = real_derive
        wrapper_class.stream = real_stream


@dataclass(frozen=True)
class ChangelogWrite:
    """One change a table sent to its changelog topic."""

    key: Any
    value: Any
    partition: int | None


@contextmanager
def record_changelog(table: Any) -> Iterator[list[ChangelogWrite]]:
    """Record every change ``table`` sends to its changelog topic (and send it on as usual).

    ``table[key] = value`` inside an agent writes the change to the changelog; a write to
    ``table.data[key]`` changes the dict only and never reaches Kafka: a restarted worker would
    not get it back. Faust sends changelog records with ``changelog_topic.send_soon``; this
    wraps that one method of this one topic object (as an instance attribute, removed after).
    """
    writes: list[ChangelogWrite] = []
    topic: Any = table.changelog_topic
    real_send_soon = topic.send_soon

    def send_soon(*args: Any, **kwargs: Any) -> Any:
        writes.append(
            ChangelogWrite(kwargs.get("key"), kwargs.get("value"), kwargs.get("partition"))
        )
        return real_send_soon(*args, **kwargs)

    topic.send_soon = send_soon
    try:
        yield writes
    finally:
        del topic.send_soon
