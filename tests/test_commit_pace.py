"""The commit timer never piles commits up, and the interval follows the guarantee.

app/transport/commits.py ``paced_commits``: the next commit starts ``max(interval - took,
took)`` after the previous one ended, so a commit longer than the interval is followed by a pause
as long as itself (Faust's own timer waits the interval whatever the commit took). The schedule
is checked on a fake clock, also for the consumer's own commit task. No duration is asserted."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import faust
import pytest
from faust.transport.consumer import Consumer as FaustConsumer

from app.config import COMMIT_INTERVALS, Settings
from app.transport import drivers, transport_url
from app.transport.commits import next_commit_delay, paced_commits
from app.transport.drivers import Consumer
from tests.test_commit_barrier import transport_consumer


@pytest.mark.parametrize(
    ("interval", "took", "delay"),
    [
        (0.1, 0.02, 0.08),  # a quick commit: the rest of the interval
        (0.1, 0.1, 0.1),  # as long as the interval: as long again
        (0.1, 0.3, 0.3),  # longer than the interval: a pause as long as the commit
        (2.8, 1.0, 1.8),
        (2.8, 0.0, 2.8),
    ],
)
def test_the_next_commit_waits_the_rest_of_the_interval_and_at_least_as_long_as_the_last(
    interval: float, took: float, delay: float
) -> None:
    assert next_commit_delay(interval, took) == pytest.approx(delay)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_timer_starts_each_commit_on_the_paced_schedule() -> None:
    clock = FakeClock()
    durations = [0.02, 0.3, 0.05, 0.25]  # what each commit takes
    spans: list[tuple[float, float]] = []  # (start, end) of every commit

    async def commit() -> None:
        start = clock.now
        clock.now += durations[len(spans)]
        spans.append((start, clock.now))

    await paced_commits(commit, 0.1, clock.sleep, lambda: len(spans) == len(durations), clock)

    starts = [start for start, _ in spans]
    # 0.1 first; then 0.12 + 0.08; 0.5 + 0.3 (a long commit); 0.85 + 0.05
    assert starts == pytest.approx([0.1, 0.2, 0.8, 0.9]), spans


async def test_no_commit_starts_before_the_previous_one_has_ended() -> None:
    clock = FakeClock()
    spans: list[tuple[float, float]] = []

    async def commit() -> None:
        start = clock.now
        clock.now += 0.5  # five intervals long, every time
        spans.append((start, clock.now))

    await paced_commits(commit, 0.1, clock.sleep, lambda: len(spans) == 5, clock)

    for (first, end), (start, _) in itertools.pairwise(spans):
        assert start - end == pytest.approx(end - first), (
            f"a commit of {end - first:g} s was followed after {start - end:g} s: "
            "the commits pile up and hold the streams most of the time"
        )


class Enough(Exception):
    pass


def exactly_once_consumer() -> Consumer:
    app = faust.App(
        "pace-exactly-once",
        broker=transport_url("kafka://127.0.0.1:1"),
        processing_guarantee="exactly_once",
        broker_commit_interval=0.001,
        autodiscover=False,
    )
    app.finalize()

    return transport_consumer(app)


async def test_the_consumers_commit_timer_is_the_paced_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The consumer's commit task runs ``paced_commits`` with its own commit and interval (on a
    fake clock here): after a commit of 0.5 s at a 0.001 s interval it waits 0.5 s."""
    consumer = exactly_once_consumer()
    clock = FakeClock()
    sleeps: list[float] = []
    commits = 0

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await clock.sleep(seconds)

    async def commit(*args: Any, **kwargs: Any) -> bool:
        nonlocal commits
        clock.now += 0.5  # five hundred intervals long
        commits += 1
        if commits == 3:
            raise Enough  # ends the timer
        return True

    def on_a_fake_clock(
        commit: Callable[[], Awaitable[object]], interval: float, *args: Any
    ) -> Awaitable[None]:
        return paced_commits(commit, interval, sleep, lambda: False, clock)

    monkeypatch.setattr(drivers, "paced_commits", on_a_fake_clock)
    consumer.commit = commit  # type: ignore[method-assign]
    handler: Any = consumer._commit_handler  # the task the consumer runs
    with pytest.raises(Enough):
        await asyncio.wait_for(handler(consumer), timeout=30)  # a guard against a hang

    assert commits == 3, "the consumer's commit task does not run paced_commits"
    assert sleeps == pytest.approx([0.001, 0.5, 0.5]), sleeps


async def test_fausts_own_timer_waits_the_interval_whatever_the_commit_took() -> None:
    """Why the transport paces its timer: Faust's (mode's ``itertimer``) waits the interval
    after each commit whatever the commit took, so with commits longer than the interval the
    barrier holds the streams most of the time. A Faust release that paces its timer fails this
    test: the override may go then."""
    consumer = exactly_once_consumer()
    sleeps: list[float] = []
    commits = 0

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def commit(*args: Any, **kwargs: Any) -> bool:
        nonlocal commits
        await asyncio.sleep(0.02)  # twenty intervals
        commits += 1
        if commits == 3:
            raise Enough
        return True

    consumer.sleep = sleep  # type: ignore[method-assign,assignment]
    consumer.commit = commit  # type: ignore[method-assign]
    fausts: Any = FaustConsumer._commit_handler
    with pytest.raises(Enough):
        await asyncio.wait_for(fausts(consumer), timeout=30)  # a guard against a hang

    assert commits == 3
    # the first wait, then one after each commit
    assert sleeps == [0.001] * 4, f"Faust's timer waited {sleeps} around 0.02 s commits"


@pytest.mark.parametrize(
    ("env", "interval"),
    [
        ({}, COMMIT_INTERVALS["at_least_once"]),
        ({"KATA_PROCESSING_GUARANTEE": "exactly_once"}, COMMIT_INTERVALS["exactly_once"]),
        ({"KATA_PROCESSING_GUARANTEE": "exactly_once", "KATA_COMMIT_INTERVAL": "2.8"}, 2.8),
        ({"KATA_PROCESSING_GUARANTEE": "at_least_once", "KATA_COMMIT_INTERVAL": "0.5"}, 0.5),
    ],
)
def test_the_interval_follows_the_guarantee_unless_set(
    env: dict[str, str], interval: float
) -> None:
    assert Settings.from_env(env).commit_interval_s == interval
    assert COMMIT_INTERVALS == {"exactly_once": 0.1, "at_least_once": 2.8}
