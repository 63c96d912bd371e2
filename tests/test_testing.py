"""Tests of the Faust test harness (kata_engine/testing.py), on an app of their own.

The agents, table, timer and page here live on a separate Faust app, so the pipeline's app
never sees them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import faust
import pytest
from faust.types import StreamT

from kata_engine.testing import (
    WorkerHalted,
    close_expired_windows,
    frozen_clock,
    prepared_app,
    run_agent,
    run_timer_once,
    web_client,
)

app = faust.App(
    "harness-test",
    broker="kafka://127.0.0.1:1",  # never contacted: the harness must not need a broker
    store="memory://",
    autodiscover=False,
    web_bind="127.0.0.1",
)
source = app.topic("harness-source", key_type=bytes, value_type=bytes, value_serializer="raw")
evens = app.topic("harness-evens", key_type=str, value_type=str, value_serializer="raw")
odds = app.topic("harness-odds", key_type=str, value_type=str, value_serializer="raw")
CAPTURED = [source, evens, odds]


@app.agent(source)
async def route_by_parity(stream: StreamT[bytes]) -> AsyncIterator[str]:
    """Sends each number to evens or odds, with its coordinates in a header; yields a summary."""
    async for event in stream.events():
        number = int(event.value)
        target = evens if number % 2 == 0 else odds
        coordinates = f"{event.message.partition}/{event.message.offset}".encode()
        await target.send(key=str(number), value=str(number), headers={"from": coordinates})
        yield f"{number}@{event.message.timestamp:g}"


@app.agent(source)
async def drop_odd_numbers(stream: StreamT[bytes]) -> AsyncIterator[int]:
    """Yields only even numbers: the filtering shape that hangs put() (faust #621)."""
    async for value in stream:
        if int(value) % 2 == 0:
            yield int(value)


@app.agent(source)
async def explode(stream: StreamT[bytes]) -> AsyncIterator[None]:
    async for _value in stream:
        raise NotImplementedError("task 9.9: this agent is a stub")
        yield None


WINDOW_SIZE = 60.0
START = 1_700_000_040.0  # a window boundary (a multiple of 60)
closed: list[tuple[Any, int]] = []


def remember_closed(key: Any, value: int) -> None:
    closed.append((key, value))


counts = app.Table("harness-counts", default=int, on_window_close=remember_closed).tumbling(
    WINDOW_SIZE, expires=timedelta(seconds=WINDOW_SIZE)
)
counts_source = app.topic("harness-counted", key_type=str, value_type=str, value_serializer="raw")


@app.agent(counts_source)
async def count_per_window(stream: StreamT[str]) -> AsyncIterator[int]:
    async for event in stream.events():
        counts[event.key] += 1
        yield counts[event.key].current()


timer_runs: list[str] = []


@app.timer(interval=3600.0)  # type: ignore[untyped-decorator]
async def hourly() -> None:
    timer_runs.append("ran")


@app.page("/hello/")
async def hello(web: Any, request: Any) -> Any:
    return web.json({"hello": "world"})


@pytest.fixture
async def test_app() -> AsyncIterator[faust.App]:
    closed.clear()
    async with prepared_app(app) as ready:
        yield ready


async def test_sends_are_captured_with_topic_key_value_and_headers(test_app: faust.App) -> None:
    async with run_agent(route_by_parity, capture=CAPTURED) as run:
        await run.put(b"4", key=b"k", partition=2, offset=40, timestamp=1_700_000_000.0)
        await run.put(b"7", partition=1)

    assert [(m.topic, m.key, m.value, m.headers) for m in run.sent] == [
        ("harness-evens", "4", "4", {"from": b"2/40"}),
        ("harness-odds", "7", "7", {"from": b"1/41"}),
    ]
    assert [m.value for m in run.sent_to(odds)] == ["7"]
    assert run.sent_to("harness-evens") == run.sent_to(evens)
    assert run.results[0] == "4@1.7e+09"


async def test_sends_are_restored_after_the_run(test_app: faust.App) -> None:
    async with run_agent(route_by_parity, capture=CAPTURED):
        assert "send" in vars(evens)
    assert "send" not in vars(evens), "the real Topic.send must be back after the run"


async def test_a_filtering_agent_fails_with_a_readable_message(test_app: faust.App) -> None:
    async with run_agent(drop_odd_numbers, capture=CAPTURED) as run:
        await run.put(b"2")
        with pytest.raises(AssertionError, match=r"within 0.2 s: does it yield for every event"):
            await run.put(b"3", timeout=0.2)
    assert run.results == [2]


async def test_the_agents_exception_reaches_the_test(test_app: faust.App) -> None:
    async with run_agent(explode, capture=CAPTURED) as run:
        with pytest.raises(NotImplementedError, match=r"^task 9\.9:"):
            await run.put(b"1")


async def test_frozen_clock_closes_windows_deterministically(test_app: faust.App) -> None:
    with frozen_clock(at=START + 5.0) as clock:
        async with run_agent(count_per_window, capture=[counts_source]) as run:
            for offset in range(3):
                await run.put(b"x", key="sensor", timestamp=START + offset)
        assert run.results == [1, 2, 3]

        await close_expired_windows(counts)
        assert closed == [], "the window must stay open while the clock stands still"

        clock.advance(2 * WINDOW_SIZE)
        await close_expired_windows(counts)

    assert closed == [(("sensor", (START, START + WINDOW_SIZE - 0.1)), 3)]


async def test_tables_are_empty_at_the_start_of_each_test() -> None:
    # Self-contained: the first preparation fills the table, the next one must find it empty,
    # whatever ran before this test (or whether anything did).
    bookkeeping: Any = counts.table  # _partition_timestamps is private to Faust
    async with prepared_app(app):
        with frozen_clock(at=START + 5.0):
            async with run_agent(count_per_window, capture=[counts_source]) as run:
                await run.put(b"x", key="sensor", timestamp=START)
        assert dict(counts.table.data), "the agent should have counted into the table"
        assert bookkeeping._partition_timestamps, "the window should have bookkeeping"

    async with prepared_app(app):
        assert dict(counts.table.data) == {}, "the next preparation must empty the table"
        assert not bookkeeping._partition_timestamps, "and its window bookkeeping"


async def test_run_timer_once_runs_the_body_once(test_app: faust.App) -> None:
    timer_runs.clear()
    await run_timer_once(hourly)
    assert timer_runs == ["ran"]


async def test_web_client_serves_the_apps_pages(test_app: faust.App) -> None:
    async with web_client(app) as client:
        response = await client.get("/hello/")
        assert response.status == 200
        assert json.loads(await response.text()) == {"hello": "world"}


async def test_web_client_works_again_on_the_next_tests_loop(test_app: faust.App) -> None:
    # aiohttp binds an Application to one event loop; each test has its own.
    async with web_client(app) as client:
        response = await client.get("/hello/")
        assert response.status == 200


@app.agent(source)
async def route_one_by_one(stream: StreamT[bytes]) -> AsyncIterator[str]:
    """Awaits each delivery before it takes the next event."""
    async for value in stream:
        await (await evens.send(key=value.decode(), value="x"))
        yield value.decode()


@app.agent(source)
async def route_in_batches(stream: StreamT[bytes]) -> AsyncIterator[str]:
    """route_by_parity a batch at a time: queue every send, then await the deliveries."""
    from faust import Stream

    from app.halt import halt_worker

    batches: Any = stream
    assert isinstance(batches, Stream)
    async for events in batches.take_events(10, 0.01):
        deliveries = []
        for event in events:
            target = evens if int(event.value) % 2 == 0 else odds
            deliveries.append(await target.send(key=event.value.decode(), value="x"))
        for delivery in deliveries:
            try:
                await delivery
            except Exception as error:
                halt_worker(f"refused: {error}")
        for event in events:
            yield event.value.decode()


async def test_put_many_queues_the_events_together_and_waits_for_every_outcome(
    test_app: faust.App,
) -> None:
    async with run_agent(route_in_batches, capture=CAPTURED, answer_after=0.02) as run:
        events = await run.put_many([(str(n).encode(), None) for n in range(5)])

    assert run.results == ["0", "1", "2", "3", "4"]
    assert [event.message.offset for event in events] == [0, 1, 2, 3, 4]
    # One batch: all five sends were queued before the played broker answered any of them.
    assert [message.answered_before for message in run.sent] == [0, 0, 0, 0, 0]


async def test_answered_before_counts_the_answers_a_per_event_agent_waited_for(
    test_app: faust.App,
) -> None:
    async with run_agent(route_one_by_one, capture=CAPTURED, answer_after=0.01) as run:
        await run.put_many([(str(n).encode(), None) for n in range(3)])

    assert [message.answered_before for message in run.sent] == [0, 1, 2]


async def test_refuse_fails_one_record_and_a_halt_notes_what_was_acknowledged(
    test_app: faust.App,
) -> None:
    def refuse(message: Any) -> BaseException | None:
        return RuntimeError("no") if message.key == "3" else None

    async with run_agent(route_in_batches, capture=CAPTURED, refuse=refuse) as run:
        with pytest.raises(WorkerHalted):
            await run.put_many([(str(n).encode(), None) for n in range(5)])

    assert sorted(m.key for m in run.sent) == ["0", "1", "2", "4"]
    assert run.acked_at_halt == [False] * 5, "a halt inside the batch's body: nothing acked yet"
