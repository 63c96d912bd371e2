"""``kata demo``: the whole pipeline in one command, its verdict, and a clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from app.config import Topics
from kata_engine.demo.outcome import Aggregate, Outcome, judge
from kata_engine.demo.plan import make_plan, window_start

DEMO = [sys.executable, "-m", "kata_engine.cli", "demo"]
ROOT = Path(__file__).resolve().parents[1]


def small_plan() -> tuple[object, Outcome]:
    plan = make_plan(count=200, sensors=3, windows=3, window_size=60.0, now=1_800_000_000.0)
    outcome = Outcome(Topics.with_prefix(""))
    outcome.enriched_by_status["normal"] = plan.valid
    outcome.dead_by_code["not_json"] = plan.malformed
    for (sensor, start), temps in plan.windows.items():
        outcome.aggregates.append(
            Aggregate(sensor, start, start + 60, len(temps), min(temps), max(temps), 20.0)
        )
    return plan, outcome


def test_the_plan_spans_whole_windows_of_the_past() -> None:
    plan = make_plan(count=300, sensors=3, windows=4, window_size=60.0, now=1_800_000_030.0)
    starts = sorted({start for _, start in plan.windows})
    assert len(starts) == 4 and starts[-1] + 60 < 1_800_000_030.0, (
        f"the readings should cover 4 windows ending before now; they cover {starts}"
    )
    assert plan.malformed > 0 and plan.valid + plan.malformed == 300
    assert window_start(119.999, 60.0) == 60.0 and window_start(120.0, 60.0) == 120.0


def test_the_verdict_is_ok_when_every_reading_and_window_is_accounted_for() -> None:
    plan, outcome = small_plan()
    verdict = judge(plan, outcome)  # type: ignore[arg-type]
    assert verdict.ok, verdict.lines


def test_the_verdict_fails_on_a_lost_reading() -> None:
    plan, outcome = small_plan()
    outcome.enriched_by_status["normal"] -= 1
    verdict = judge(plan, outcome)  # type: ignore[arg-type]
    assert not verdict.ok and "!=" in verdict.lines[0], verdict.lines


def test_the_verdict_fails_on_a_missing_or_repeated_window() -> None:
    plan, outcome = small_plan()
    outcome.aggregates.append(outcome.aggregates[0])
    assert not judge(plan, outcome).ok, "a window emitted twice must fail the demo"  # type: ignore[arg-type]
    outcome.aggregates = outcome.aggregates[2:]
    assert not judge(plan, outcome).ok, "a missing window must fail the demo"  # type: ignore[arg-type]


def demo_env(servers: str, marker: str = "") -> dict[str, str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers, "KATA_DEMO_TEST": marker}
    env.pop("KATA_IMPL", None)  # the demo runs the solutions without --mine, whatever is set
    return env


@pytest.mark.kafka
def test_the_demo_runs_the_whole_pipeline_and_says_it_is_ok(kafka_bootstrap: str) -> None:
    result = subprocess.run(
        [*DEMO, "--readings", "600"],
        cwd=ROOT,
        env=demo_env(kafka_bootstrap),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"kata demo exited {result.returncode}; expected 0. stdout:\n{result.stdout}\n"
        f"stderr:\n{result.stderr}"
    )
    assert "OK: 600 readings in = " in result.stdout, result.stdout
    assert "expected windows are there, each once" in result.stdout, result.stdout
    assert "GET /status/" in result.stdout, "the summary should show the /status/ section"
    assert "\x1b" not in result.stdout + result.stderr, "escape codes in a pipe"


def processes_with(marker: str) -> list[int]:
    """Processes of ours whose environment carries ``marker`` (the demo's children inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if f"KATA_DEMO_TEST={marker}".encode() in (entry / "environ").read_bytes():
                state = (entry / "status").read_text()
                if "State:\tZ" not in state:
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.kafka
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_the_demo_and_everything_it_started(kafka_bootstrap: str) -> None:
    marker = uuid.uuid4().hex
    demo = subprocess.Popen(
        [*DEMO, "--readings", "20000"],  # long enough to be interrupted mid-run
        cwd=ROOT,
        env=demo_env(kafka_bootstrap, marker),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stderr is not None
        lines = []
        for line in demo.stderr:  # the demo says when the worker starts
            lines.append(line)
            if line.startswith("worker:"):
                break
        deadline = time.monotonic() + 60  # a guard against a hang, not a time assertion
        while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(processes_with(marker)) >= 2, f"no worker process appeared: {lines}"
        time.sleep(3)  # the worker is starting or running: the worst moment for a stray
        demo.send_signal(signal.SIGINT)
        _, rest = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 130, f"an interrupted demo should exit 130, not {demo.returncode}"
    assert "interrupted" in rest, rest
    left = processes_with(marker)
    assert not left, f"processes left behind by the interrupted demo: {left}"


@pytest.mark.kafka
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_dashboard_prints_the_url_first_and_holds_the_worker_until_ctrl_c(
    kafka_bootstrap: str,
) -> None:
    marker = uuid.uuid4().hex
    demo = subprocess.Popen(
        [*DEMO, "--dashboard", "--readings", "300"],
        cwd=ROOT,
        env=demo_env(kafka_bootstrap, marker),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stderr is not None
        lines: list[str] = []
        for line in demo.stderr:
            lines.append(line)
            if "dashboard stays at" in line:
                break
        shown = [n for n, line in enumerate(lines) if line.startswith("dashboard: http://")]
        sent = [n for n, line in enumerate(lines) if line.startswith("sent ")]
        assert shown and sent and shown[0] < sent[0], (
            f"the dashboard's URL must be printed before the readings are sent: {lines}"
        )
        url = lines[shown[0]].split()[1]
        with urllib.request.urlopen(f"{url}data.json", timeout=10) as response:
            data = json.loads(response.read())
        assert sum(data["sections"]["readings_per_sensor"]["values"].values()) > 0, (
            f"after the summary the worker still serves the dashboard, with its counts: {data}"
        )
        demo.send_signal(signal.SIGINT)
        out, rest = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, (
        f"Ctrl-C is how --dashboard ends: exit 0 after a good run, not {demo.returncode}\n{rest}"
    )
    assert "OK: 300 readings in = " in out, out
    left = processes_with(marker)
    assert not left, f"processes left behind after the dashboard closed: {left}"
