"""Without KATA_PHASES the worker runs the phases you have built, and says what it left out.

The README's own command (``uv run faust -A app.main worker -l info``) must not crash a learner
who is in phase 2 on phase 3's first stub. No broker: the choice is made before Faust starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.stub_check import FirstStub, default_phases

ROOT = Path(__file__).resolve().parent.parent
STUB = 'def f() -> None:\n    raise NotImplementedError("task {task}: do it — run `kata hint`")\n'
DONE = "def f() -> int:\n    return 1\n"


def write_katas(root: Path, files: dict[str, str]) -> Path:
    katas = root / "katas"
    for name, text in files.items():
        path = katas / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return katas


@pytest.fixture(autouse=True)
def _learner_impl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KATA_IMPL", raising=False)


def test_the_leading_built_phases_run_and_the_first_stub_after_them_is_named(
    tmp_path: Path,
) -> None:
    katas = write_katas(
        tmp_path,
        {
            "phase2/validation.py": DONE,
            "phase2/test_validation.py": STUB.format(task="2.1"),  # tests are not run by a worker
            "phase2/batching.py": STUB.format(task="2.5"),  # optional: task 2.4's agent runs
            "phase3/counting.py": DONE,
            "phase3/lifecycle.py": STUB.format(task="3.4"),
            "phase3/threshold.py": STUB.format(task="3.3"),
            "phase4/windowing.py": DONE,
        },
    )
    phases, stub = default_phases([2, 3, 4], katas)
    assert phases == [2], (
        f"default_phases ran {phases} with phase 3 still a stub; expected [2]: phase 4 reads "
        "what phase 3 writes, so nothing after the first unbuilt phase runs"
    )
    assert stub == FirstStub(3, "3.3", "katas/phase3/threshold.py"), (
        f"default_phases named {stub}; expected the lowest-numbered stub of phase 3 (task 3.3 "
        "in katas/phase3/threshold.py)"
    )


def test_every_phase_runs_when_none_has_a_stub(tmp_path: Path) -> None:
    katas = write_katas(tmp_path, {"phase2/a.py": DONE, "phase3/b.py": DONE})
    assert default_phases([2, 3], katas) == ([2, 3], None)


def test_the_reference_solutions_always_run_every_phase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KATA_IMPL", "solutions")
    katas = write_katas(tmp_path, {"phase2/a.py": STUB.format(task="2.1")})
    assert default_phases([2, 3], katas) == ([2, 3], None)


def shipped_katas(root: Path) -> Path:
    """katas/ as a learner clones it (HEAD's stubs), whatever this checkout's katas/ holds."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD", "katas"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    return root / "katas"


def import_app_main(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Import app.main (what the worker does first) with ``cwd``'s katas/ in front."""
    base = {k: v for k, v in os.environ.items() if k not in {"KATA_PHASES", "KATA_IMPL"}}
    return subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=cwd,
        env={**base, "PYTHONPATH": f"{cwd}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_shipped_stubs_stop_the_worker_with_one_line_naming_the_next_task(
    tmp_path: Path,
) -> None:
    shipped_katas(tmp_path)
    done = import_app_main(tmp_path)
    output = (done.stdout + done.stderr).strip()
    expected = "app.main: nothing to run: phase 2 is not built yet (task 2.1 in"
    assert done.returncode == 2 and output.startswith(expected) and len(output.splitlines()) == 1, (
        f"the worker on the shipped stubs exited {done.returncode} and printed:\n{output}\n"
        f"expected exit 2 and one line: {expected} ..."
    )


def test_a_learner_in_phase_3_gets_a_worker_of_phase_2_and_one_line_saying_so(
    tmp_path: Path,
) -> None:
    katas = shipped_katas(tmp_path)
    for solution in (ROOT / "solutions" / "phase2").glob("*.py"):
        if solution.name != "__init__.py":
            shutil.copy(solution, katas / "phase2" / solution.name)
    done = import_app_main(tmp_path)
    output = (done.stdout + done.stderr).strip()
    expected = (
        "app.main: running phases 2: phase 3 is not built yet (task 3.1 in "
        "katas/phase3/counting.py); KATA_PHASES chooses the phases"
    )
    assert done.returncode == 0 and output == expected, (
        f"importing app.main with phase 2 built exited {done.returncode} and printed:\n"
        f"{output}\nexpected exit 0 and one line: {expected}"
    )


def test_kata_phases_all_loads_every_phase_stubs_and_all(tmp_path: Path) -> None:
    shipped_katas(tmp_path)
    base = {k: v for k, v in os.environ.items() if k != "KATA_IMPL"}
    done = subprocess.run(
        [sys.executable, "-c", "import app.main as m; print(sorted(m.app.agents))"],
        cwd=tmp_path,
        env={**base, "KATA_PHASES": "all", "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "count_by_sensor" in done.stdout, (
        f"KATA_PHASES=all on the shipped stubs exited {done.returncode}; expected every phase's "
        f"agents (phase 3's count_by_sensor among them):\n{done.stdout}{done.stderr}"
    )
