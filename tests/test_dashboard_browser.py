"""The live dashboard in a real browser: Debian's chromium, driven by playwright, headless.

A worker of the reference solutions (every phase) runs against the real broker; readings arrive
(about 10% malformed, event times over six windows, then a few late ones). The test opens
/dashboard/ and waits until what the page SHOWS (text read from the DOM, never the JSON it
polls) equals what GET /status/ says: readings per status, dead letters per error code, late
events, each sensor's latest window average, the guarantee, and replays / clock-rejected
readings exactly when /status/ has them ("not available" otherwise); the lag of every partition
shows 0 and the throughput chart has seen readings. It saves a screenshot (the README's
docs/dashboard.png with KATA_UPDATE_SCREENSHOT=1, else in the test's temporary folder). Then it
SIGKILLs the worker, sees the page say the worker is unreachable, restarts the worker on the
same port, sends more readings, and waits until the page is live again and agrees with /status/
once more. Every request the page made went to 127.0.0.1.

chromium comes from Debian (``apt-get install chromium``; .ci/run installs it when missing):
playwright's own browser download is not used. Without it the test skips, and under
--require-kafka or CI it FAILS: CI must never pass without having run it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiokafka import AIOKafkaProducer

from app.producer import KIND_HEADER, generate_events
from kata_engine import switch
from kata_engine.broker.common import free_port
from kata_engine.demo.plan import make_plan
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import Worker, create_topics, running_worker

pytestmark = pytest.mark.kafka

CHROMIUM = Path("/usr/bin/chromium")
# The README's screenshot is rewritten only on request, so a test run leaves the checkout clean.
README_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "dashboard.png"
UPDATE_SCREENSHOT = "KATA_UPDATE_SCREENSHOT"  # =1: write README_SCREENSHOT
PARTITIONS = 4
READINGS = 1_500
LATE = 12  # valid readings of the first window, sent once it has closed: late events
AFTER_RESTART = 300
WAIT_S = 180.0  # a guard against a hang, never a performance assertion
ENV = {
    "KATA_PROCESSING_GUARANTEE": "exactly_once",
    "KATA_WINDOW_CLOSE_DELAY": "2",
    "KATA_WINDOW_TICK_INTERVAL": "0.5",
    # A SIGKILLed member holds its partitions until its session expires: keep that short.
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_REBALANCE_TIMEOUT": "10",
}

# What the page shows, read from its DOM (the text a reader sees, and the keys it labels).
READ_DOM = """() => {
  const bars = (name) => Object.fromEntries([...document.querySelectorAll(
    `[data-section="${name}"] .bar-row`)].map((row) =>
      [row.getAttribute("data-key"), row.querySelector(".value").textContent]));
  const text = (id) => document.getElementById(id).textContent;
  return {
    connection: document.body.getAttribute("data-connection"),
    guarantee: text("guarantee"),
    statuses: bars("readings_per_status"),
    dead_letters: bars("dead_letters_per_error_code"),
    lag: bars("lag_per_partition"),
    late_total: text("late-total"),
    status_only: Object.fromEntries(["replays_per_partition", "clock_rejected_per_sensor"]
      .map((name) => [name, { bars: bars(name), text: document.querySelector(
        `[data-section="${name}"]`).textContent.trim() }])),
    windows: Object.fromEntries([...document.querySelectorAll("#windows-legend .legend-item")]
      .map((item) => [item.getAttribute("data-sensor"),
        item.querySelector(".latest-value").textContent])),
    window_dots: document.querySelectorAll("#windows-chart circle").length,
    throughput: text("throughput-value"),
    throughput_peak: document.getElementById("throughput-chart").getAttribute("data-peak"),
    not_built: document.getElementById("not-built").hidden ? "" : text("not-built"),
  };
}"""


def number(text: str) -> float:
    """A number as the page prints it ("1,234", "24.25 °C")."""
    return float(text.replace(",", "").replace("°C", "").strip())


def run_async(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run Kafka client code on a thread of its own: playwright's sync API owns this thread's
    event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def get_json(worker: Worker, path: str) -> dict[str, Any] | None:
    """The worker's JSON at ``path``; None while it does not answer 200."""
    try:
        url = f"http://127.0.0.1:{worker.web_port}{path}"
        with urllib.request.urlopen(url, timeout=5) as response:
            data: dict[str, Any] = json.loads(response.read())
            return data
    except (OSError, ValueError):
        return None


def get_status(worker: Worker) -> dict[str, Any] | None:
    return get_json(worker, "/status/")


def disagreements(dom: dict[str, Any], status: dict[str, Any]) -> list[str]:
    """Where the page differs from /status/ (empty: it shows what /status/ says)."""
    wrong: list[str] = []
    for shown, key in (
        ("statuses", "readings_per_status"),
        ("dead_letters", "dead_letters_per_error_code"),
    ):
        page = {k: number(v) for k, v in dom[shown].items()}
        if page != {k: float(v) for k, v in status[key].items()}:
            wrong.append(f"{key}: the page shows {dom[shown]}, /status/ says {status[key]}")
    late = sum(status["late_events_per_sensor"].values())
    if not dom["late_total"][:1].isdigit() or number(dom["late_total"]) != late:
        wrong.append(f"late events: the page shows {dom['late_total']!r}, /status/ says {late}")
    latest = {s: w["avg_temperature"] for s, w in status["latest_window_per_sensor"].items()}
    page_windows = {s: number(v) for s, v in dom["windows"].items()}
    if set(page_windows) != set(latest) or any(
        abs(page_windows[s] - latest[s]) > 0.0051 for s in latest
    ):
        wrong.append(f"latest windows: the page shows {dom['windows']}, /status/ says {latest}")
    for key, shown in dom["status_only"].items():  # agreed additions to /status/ (phase 4)
        if key not in status and shown["text"] != "not available":
            wrong.append(f"{key}: /status/ has none, the page shows {shown['text']!r}")
        if key in status and {k: number(v) for k, v in shown["bars"].items()} != {
            k: float(v) for k, v in status[key].items()
        }:
            wrong.append(f"{key}: the page shows {shown['bars']}, /status/ says {status[key]}")
    if dom["guarantee"] != status["processing_guarantee"]:
        wrong.append(f"guarantee: {dom['guarantee']!r} vs {status['processing_guarantee']!r}")
    return wrong


def wait_until(
    what: str, check: Callable[[], list[str]], worker: Worker, timeout: float = WAIT_S
) -> None:
    """Poll ``check`` (a list of what is still wrong) until it is empty; fail with its last list."""
    deadline = time.monotonic() + timeout
    problems = ["not checked yet"]
    while time.monotonic() < deadline:
        worker.check_alive()
        problems = check()
        if not problems:
            return
        time.sleep(0.5)
    pytest.fail(
        f"{what} within {timeout:g} s; still: {problems}\nthe worker's log ends:\n"
        + worker.log_tail(15),
        pytrace=False,
    )


async def produce(servers: str, topic: str, events: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            headers = [(KIND_HEADER, event.kind.encode())]
            await producer.send(topic, value=event.value, key=event.key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


@pytest.fixture
def chromium(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Debian's chromium under playwright, headless; skip (fail under CI) when it is missing."""
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        reason = "the dashboard's browser test needs Debian's chromium (apt-get install chromium)"
        if request.config.getoption("--require-kafka") or os.environ.get("CI"):
            pytest.fail(f"{reason}; .ci/run installs it", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            headless=True,
            args=["--no-sandbox"],  # CI runs as root, where chromium's sandbox cannot start
        )
        try:
            yield browser
        finally:
            browser.close()


def test_the_dashboard_shows_what_status_says_and_recovers_from_a_sigkill(
    kafka_isolation: KafkaIsolation, tmp_path: Path, chromium: Any
) -> None:
    started = time.monotonic()
    screenshot = tmp_path / "dashboard.png"
    if os.environ.get(UPDATE_SCREENSHOT) == "1":
        screenshot = README_SCREENSHOT
    env = {**kafka_isolation.env(), **ENV, switch.ENV_VAR: switch.SOLUTIONS}
    servers = kafka_isolation.bootstrap_servers
    prefix = kafka_isolation.topic_prefix
    readings = f"{prefix}sensor-readings"
    names = [
        readings,
        *(
            f"{prefix}{n}"
            for n in (
                "enriched-readings",
                "sensor-dead-letter",
                "window-aggregates",
                "window-ticks",
            )
        ),
    ]
    run_async(create_topics(servers, names, PARTITIONS))
    plan = make_plan(count=READINGS, sensors=5, windows=6, window_size=60.0, now=time.time())
    first_window = min(start for _, start in plan.windows)
    late = list(
        generate_events(
            LATE, seed=11, sensors=5, include_bad=False, start_time=first_window + 1, step=1.0
        )
    )
    more = make_plan(
        count=AFTER_RESTART, sensors=5, windows=1, window_size=60.0, now=time.time() + 120.0, seed=3
    ).events
    port = free_port()
    requests: list[str] = []
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    url = f"http://127.0.0.1:{port}/dashboard/"

    def dom() -> dict[str, Any]:
        shown: dict[str, Any] = page.evaluate(READ_DOM)
        return shown

    def shows_status(worker: Worker, sent: int) -> Callable[[], list[str]]:
        def check() -> list[str]:
            status = get_status(worker)
            if status is None:
                return ["GET /status/ does not answer yet"]
            outcomes = sum(status["readings_per_status"].values()) + sum(
                status["dead_letters_per_error_code"].values()
            )
            if outcomes < sent:
                return [f"{outcomes} of {sent} readings have an outcome in /status/"]
            shown = dom()
            problems = disagreements(shown, status)
            if shown["connection"] != "live":
                problems.append(f"the page says the connection is {shown['connection']!r}")
            if not shown["lag"] or any(number(v) != 0 for v in shown["lag"].values()):
                problems.append(f"lag per partition shows {shown['lag']}, expected 0 everywhere")
            return problems

        return check

    def lap(what: str) -> None:  # shown with -s: where the test's time goes
        print(f"{time.monotonic() - started:5.1f} s  {what}")

    with running_worker(env, tmp_path, phases="all", web_port=port) as worker:
        wait_until(
            "the worker's web server answered",
            lambda: [] if get_status(worker) else ["no answer"],
            worker,
        )
        lap("worker up")
        page.goto(url)
        run_async(produce(servers, readings, plan.events))
        wait_until(
            "the page showed every window closing",
            lambda: (
                []
                if len(dom()["windows"]) == 5 and dom()["window_dots"] >= 25
                else [f"{dom()['windows']}"]
            ),
            worker,
        )
        lap("every window shown")
        run_async(produce(servers, readings, late))
        sent = READINGS + LATE
        wait_until("the page showed what /status/ says", shows_status(worker, sent), worker)
        shown = dom()
        assert number(shown["late_total"]) > 0, f"the late readings show as late: {shown}"
        assert number(shown["throughput_peak"]) > 0, (
            f"the throughput chart saw the readings being handled: peak {shown['throughput_peak']}"
        )
        assert shown["not_built"] == "", f"the solutions have no stub: {shown['not_built']!r}"
        lap("the page agrees with /status/")
        page.screenshot(path=str(screenshot), full_page=True)

        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
        deadline = time.monotonic() + 15
        while dom()["connection"] != "down" and time.monotonic() < deadline:
            time.sleep(0.2)  # (wait_for_function evaluates a string: the page's CSP forbids it)
        down = page.evaluate("() => document.getElementById('connection').textContent")
        assert "unreachable" in down, f"a dead worker shows as unreachable; the page says {down!r}"

    lap("killed; the page says unreachable")
    with running_worker(env, tmp_path, phases="all", web_port=port) as worker:
        run_async(produce(servers, readings, more))
        sent += AFTER_RESTART
        wait_until("the page recovered after the restart", shows_status(worker, sent), worker)
        lap("restarted; the page agrees with /status/ again")
        os.killpg(worker.process.pid, signal.SIGKILL)  # nothing left to check: no clean stop

    assert not errors, f"the page raised JavaScript errors: {errors}"
    foreign = sorted({r for r in requests if urlsplit(r).hostname != "127.0.0.1"})
    assert not foreign, f"the page may only talk to the worker on 127.0.0.1; it asked {foreign}"
    assert any(r.endswith("/dashboard/data.json") for r in requests), "the page polls data.json"
    print(
        f"\nbrowser test: {len(requests)} requests, all to 127.0.0.1; "
        f"{time.monotonic() - started:.0f} s; screenshot {screenshot}"
    )


def test_the_dashboard_shows_missing_phases_as_missing_not_as_errors(
    kafka_isolation: KafkaIsolation, tmp_path: Path, chromium: Any
) -> None:
    """A worker of phase 2 only: every later section says its phase is not running."""
    env = {**kafka_isolation.env(), switch.ENV_VAR: switch.SOLUTIONS}
    prefix = kafka_isolation.topic_prefix
    names = [f"{prefix}{n}" for n in ("sensor-readings", "enriched-readings", "sensor-dead-letter")]
    run_async(create_topics(kafka_isolation.bootstrap_servers, names, PARTITIONS))
    errors: list[str] = []
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda error: errors.append(str(error)))
    notes = """() => Object.fromEntries([...document.querySelectorAll("[data-section]")]
      .map((node) => [node.getAttribute("data-section"), node.textContent.trim()]))"""
    expected = {
        "readings_per_status": "phase 3 is not running in this worker",
        "dead_letters_per_error_code": "phase 5 is not running in this worker",
        "late_events_per_sensor": "phase 4 is not running in this worker",
        "replays_per_partition": "not available",
        "clock_rejected_per_sensor": "not available",
    }
    with running_worker(env, tmp_path, phases="2") as worker:
        wait_until(
            "the worker's dashboard answered",
            lambda: [] if get_json(worker, "/dashboard/data.json") else ["no answer"],
            worker,
        )
        page.goto(f"http://127.0.0.1:{worker.web_port}/dashboard/")

        def shows_missing_phases() -> list[str]:
            shown: dict[str, str] = page.evaluate(notes)
            wrong = [
                f"{name}: {shown.get(name)!r} (expected it to start with {text!r})"
                for name, text in expected.items()
                if not shown.get(name, "").startswith(text)
            ]
            footer = page.evaluate("() => document.getElementById('status-page').textContent")
            if not footer.startswith("404"):
                wrong.append(f"GET /status/ shows as {footer!r}; expected its 404")
            if dom_connection(page) != "live":
                wrong.append("the page is not live")
            return wrong

        wait_until("the page showed the missing phases", shows_missing_phases, worker)
        windows = page.evaluate("() => document.getElementById('windows-chart').textContent")
        assert "phase 5 is not running" in windows, f"the window chart says {windows!r}"
        os.killpg(worker.process.pid, signal.SIGKILL)  # nothing left to check: no clean stop
    assert not errors, f"the page raised JavaScript errors: {errors}"


def dom_connection(page: Any) -> str:
    connection: str = page.evaluate("() => document.body.getAttribute('data-connection')")
    return connection
