"""Which phase 2 agent the worker runs: task 2.4's per-event one until task 2.5 is written.

Both agents consume sensor-readings, so app.main imports exactly one of the two modules. Each
case runs in a fresh interpreter: importing app.main registers the chosen agent on the app.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.stub_check import raises_stub_error

REPO = Path(__file__).resolve().parents[1]
PROBE = "import app.main as m; print(sorted(m.app.agents))"
PER_EVENT_AGENT = "phase2.enrichment.enrich_readings"
BATCHED_AGENT = "phase2.batching.enrich_readings_in_batches"


def agents(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "KATA_PHASES": "2", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"importing app.main failed: {done.stderr[-2000:]}"
    return done.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, PER_EVENT_AGENT),  # the learner's stubs as shipped: task 2.5 not written yet
        ({"KATA_IMPL": "solutions"}, BATCHED_AGENT),
        ({"KATA_IMPL": "solutions", "KATA_ENRICHMENT": "per-event"}, PER_EVENT_AGENT),
        ({"KATA_IMPL": "solutions", "KATA_ENRICHMENT": "batched"}, BATCHED_AGENT),
    ],
)
def test_the_worker_runs_exactly_one_enrichment_agent(env: dict[str, str], expected: str) -> None:
    got = agents(env)
    others = {PER_EVENT_AGENT, BATCHED_AGENT} - {expected}
    assert expected in got and not any(other in got for other in others), (
        f"with {env} the worker registered {got.strip()}; expected {expected} and not the other "
        "enrichment agent (both consume sensor-readings: every event would be handled twice)"
    )


def test_a_stub_still_raising_its_task_error_is_recognised() -> None:
    stub = (REPO / "katas/phase2/batching.py").read_text(encoding="utf-8")
    written = (REPO / "solutions/phase2/batching.py").read_text(encoding="utf-8")
    assert raises_stub_error(stub, "2.5"), (
        "katas/phase2/batching.py as shipped raises task 2.5's NotImplementedError; the worker "
        "must see it as not written yet and run task 2.4's agent"
    )
    assert not raises_stub_error(written, "2.5"), (
        "the reference solutions/phase2/batching.py does not raise NotImplementedError; the "
        "worker must see it as written"
    )
    assert not raises_stub_error(stub, "2.4"), "the stub raises task 2.5's error, not 2.4's"
