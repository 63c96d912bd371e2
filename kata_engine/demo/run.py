"""``uv run kata demo``: the whole pipeline, end to end, on a real broker, in one command.

1. A broker through the chain (kata_engine/broker): one that answers, else Docker, else the local
   jars. A broker started here is stopped at the end.
2. A real Faust worker with every phase of this tree: the reference solutions, or your own code
   with ``--mine``; ``--guarantee`` at_least_once or exactly_once.
3. Readings, about 10% of them malformed, with event times over a few windows of the recent past:
   later readings close the earlier windows, a quiet partition closes the last ones.
4. A bounded wait with a progress display, then the summary; exit 0 only when every reading has
   exactly one outcome and every expected window is there.

With ``--dashboard`` the live page's URL (served by the worker, app/dashboard) is printed as
soon as the worker starts, and after the summary the worker and the broker stay up until Ctrl-C,
which then ends the demo normally (with the summary's exit code). A stub the worker runs into
(``--mine``) does not end it either: the page shows the task as not built yet.

Ctrl-C (or SIGTERM) stops the worker and the broker it started; the topics of a run are deleted
when it ends normally.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console

from app.config import Settings, Topics
from app.producer import KIND_HEADER
from kata_engine import switch
from kata_engine.broker import BrokerUnavailable, provide_broker
from kata_engine.demo.outcome import Outcome, judge
from kata_engine.demo.plan import Plan, make_plan
from kata_engine.demo.progress import DemoProgress
from kata_engine.demo.view import render
from kata_engine.worker import (
    Worker,
    WorkerDied,
    committed_reader,
    create_topics,
    delete_topics,
    running_worker,
)

PARTITIONS = 4
# Phase 4's timing for a short run: a partition quiet for 2 s closes its last windows.
FAST_WINDOWS = {"KATA_WINDOW_CLOSE_DELAY": "2", "KATA_WINDOW_TICK_INTERVAL": "0.5"}
NOT_DONE = re.compile(r"NotImplementedError: (task \d+\.\d+[^\n]*)")
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


class DemoError(Exception):
    """The demo could not run: one line for the user."""


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: stop what was started, then exit 130."""


class DashboardClosed(BaseException):
    """Ctrl-C while ``--dashboard`` holds the worker after the summary: the normal end."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Options:
    mine: bool = False
    guarantee: str = "at_least_once"
    readings: int = 2000
    sensors: int = 5
    windows: int = 6
    timeout: float = 90.0
    dashboard: bool = False  # keep the worker up after the summary, until Ctrl-C


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise Interrupted once; further ones are ignored while we clean up."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def stop(signum: int, frame: FrameType | None) -> NoReturn:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        raise Interrupted(signal.Signals(signum).name)

    for sig in previous:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def demo(options: Options, console: Console, progress_console: Console) -> int:
    """Run the demo; return the exit code."""
    # aiokafka logs the retries it recovers from by itself (a new topic's leader moving):
    # noise here; a failure that matters reaches us as an exception.
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    logging.getLogger("aiokafka").propagate = False
    try:
        with _stop_on_signals():
            return _demo(options, console, progress_console)
    except DashboardClosed as closed:
        progress_console.print(
            "dashboard closed: the worker and any broker the demo started are stopped"
        )
        return closed.code
    except Interrupted:
        progress_console.print(
            "interrupted: the worker and any broker the demo started are stopped"
        )
        return EXIT_INTERRUPTED


def _demo(options: Options, console: Console, progress_console: Console) -> int:
    token = uuid.uuid4().hex[:8]
    base = {**os.environ, **{k: v for k, v in FAST_WINDOWS.items() if k not in os.environ}}
    env = {
        **base,
        "KATA_APP_ID": f"kata-demo-{token}",
        "KATA_TOPIC_PREFIX": f"demo-{token}-",
        "KATA_PROCESSING_GUARANTEE": options.guarantee,
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
        switch.ENV_VAR: switch.LEARNER if options.mine else switch.SOLUTIONS,
    }
    try:
        settings = Settings.from_env(env)
    except ValueError as exc:
        raise DemoError(f"bad configuration: {exc}") from None
    plan = make_plan(
        count=options.readings,
        sensors=options.sensors,
        windows=options.windows,
        window_size=settings.window_size,
        now=time.time(),
    )
    which = "your code (--mine)" if options.mine else "the reference solutions"
    started = time.monotonic()
    try:
        broker = provide_broker(lambda line: progress_console.print(line, highlight=False))
        with broker as found:
            progress_console.print(f"broker: {found.bootstrap_servers} ({found.source})")
            env["KAFKA_BOOTSTRAP_SERVERS"] = found.bootstrap_servers

            def summary(outcome: Outcome, status: dict[str, Any] | str) -> int:
                render(console, plan, outcome, status, verdict := judge(plan, outcome))
                console.print(
                    f"{options.guarantee}, {which}, {time.monotonic() - started:.0f} s in all",
                    highlight=False,
                )
                return EXIT_OK if verdict.ok else EXIT_FAILED

            return _with_worker(
                found.bootstrap_servers,
                env,
                settings.topics,
                plan,
                options,
                which,
                progress_console,
                summary,
            )
    except BrokerUnavailable as exc:
        raise DemoError(str(exc)) from None


def _with_worker(
    servers: str,
    env: dict[str, str],
    topics: Topics,
    plan: Plan,
    options: Options,
    which: str,
    progress_console: Console,
    summary: Callable[[Outcome, dict[str, Any] | str], int],
) -> int:
    """Run the worker, drive the plan through it, and return ``summary``'s exit code (after
    holding the worker until Ctrl-C with ``--dashboard``)."""
    workdir = Path(tempfile.mkdtemp(prefix="kata-demo-"))
    names = [topics.readings, topics.enriched, topics.dead_letter, topics.window_aggregates]
    names.append(f"{env['KATA_TOPIC_PREFIX']}window-ticks")
    asyncio.run(create_topics(servers, names, PARTITIONS))
    finished = False
    try:
        progress_console.print(
            f"worker: every phase of this tree, {which}, {options.guarantee}; "
            f"{plan.readings} readings ({plan.malformed} malformed) over "
            f"{len({start for _, start in plan.windows})} windows of {plan.window_size:g} s",
            highlight=False,
        )
        with running_worker(env, workdir, phases="all") as worker:
            if options.dashboard:
                progress_console.print(
                    f"dashboard: http://127.0.0.1:{worker.web_port}/dashboard/ (live; it stays "
                    "up after the summary until Ctrl-C)",
                    highlight=False,
                    soft_wrap=True,  # the URL on one line, whatever the terminal's width
                )
            outcome = Outcome(topics)
            try:
                with DemoProgress(progress_console, plan) as progress:
                    outcome = asyncio.run(
                        _drive(servers, topics, plan, worker, options.timeout, progress, outcome)
                    )
            except DemoError as exc:
                if not options.dashboard:
                    raise
                progress_console.print(str(exc), highlight=False)  # the page shows it too
            code = summary(outcome, _status(worker))
            finished = True  # the run is complete: its work directory can go
            if options.dashboard:
                _hold(worker, progress_console, code)
        return code
    except WorkerDied as exc:
        finished = False  # keep its log
        raise DemoError(f"{str(exc).splitlines()[0]}; its log: {workdir / 'worker.log'}") from None
    finally:
        # The run's topics go whatever happened (bounded: the broker may be gone too).
        asyncio.run(delete_topics(servers, env["KATA_TOPIC_PREFIX"], env["KATA_APP_ID"]))
        if finished:
            shutil.rmtree(workdir, ignore_errors=True)
        elif (workdir / "worker.log").exists():
            progress_console.print(f"the worker's log is kept in {workdir / 'worker.log'}")


def _hold(worker: Worker, progress_console: Console, code: int) -> NoReturn:
    """Keep the worker (and the broker) up for the dashboard until Ctrl-C or SIGTERM."""
    progress_console.print(
        f"the dashboard stays at http://127.0.0.1:{worker.web_port}/dashboard/ ; "
        "Ctrl-C stops the worker and any broker the demo started",
        highlight=False,
        soft_wrap=True,
    )
    try:
        while True:
            worker.check_alive()
            time.sleep(0.5)
    except Interrupted:
        raise DashboardClosed(code) from None


async def _drive(
    servers: str,
    topics: Topics,
    plan: Plan,
    worker: Worker,
    timeout: float,
    progress: DemoProgress,
    outcome: Outcome,
) -> Outcome:
    """Produce the plan's readings while reading every output back (into ``outcome``), until
    all is there."""
    sending = asyncio.create_task(_produce(servers, topics.readings, plan, progress))
    outputs = [topics.enriched, topics.dead_letter, topics.window_aggregates]
    try:
        async with committed_reader(servers, outputs) as consumer:
            settled = await _collect(consumer, outcome, plan, worker, sending, timeout, progress)
        if not settled:
            progress.note(f"gave up waiting after {timeout:g} s")
    finally:
        sending.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await sending
    return outcome


async def _collect(
    consumer: AIOKafkaConsumer,
    outcome: Outcome,
    plan: Plan,
    worker: Worker,
    sending: asyncio.Task[None],
    timeout: float,
    progress: DemoProgress,
) -> bool:
    """Read outputs into ``outcome`` until all is there and quiet; False when time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.check_alive()
        _check_tasks_done(worker)
        if sending.done():
            sending.result()  # a failed send ends the demo here
        complete = outcome.outcomes >= plan.readings and set(plan.windows) <= set(outcome.windows())
        # Once complete, one more second of silence: a duplicate would show up in it.
        batches = await consumer.getmany(timeout_ms=1000 if complete else 300)
        for batch in batches.values():
            for record in batch:
                outcome.add(record.topic, record.key, record.value)
        progress.update(outcome)
        if complete and not batches:
            return True
    return False


async def _produce(servers: str, topic: str, plan: Plan, progress: DemoProgress) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=servers, acks="all", enable_idempotence=True, linger_ms=20
    )
    await producer.start()
    try:
        deliveries = []
        for event in plan.events:
            headers = [(KIND_HEADER, event.kind.encode())]
            deliveries.append(
                await producer.send(topic, value=event.value, key=event.key, headers=headers)
            )
        for number, delivery in enumerate(deliveries, 1):
            await delivery
            if number % 100 == 0 or number == len(deliveries):
                progress.produced(number)
    finally:
        await producer.stop()


def _check_tasks_done(worker: Worker) -> None:
    """With --mine, a task not done yet shows up as NotImplementedError in the worker's log."""
    with suppress(OSError):
        found = NOT_DONE.search(worker.log.read_text(errors="replace"))
        if found:
            raise DemoError(f"the worker hit a stub: {found[1]} (uv run kata status)")


def _status(worker: Worker) -> dict[str, Any] | str:
    """The worker's GET /status/ (phase 5), or why there is none."""
    url = f"http://127.0.0.1:{worker.web_port}/status/"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            data = json.loads(response.read())
            return data if isinstance(data, dict) else {"status": data}
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return "not there yet: phase 5 (exactly-once and GET /status/) is not in this tree"
        return f"GET {url} answered {exc.code}"
    except (OSError, ValueError) as exc:
        return f"GET {url} failed: {exc}"
