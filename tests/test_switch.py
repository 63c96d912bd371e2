"""The implementation switch: your modules by default, the solutions on request, never a mix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kata_engine import switch

REPO = Path(__file__).resolve().parents[1]


def python(code: str, impl: str) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter: the switch changes how this process imports, once and for good.
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, switch.ENV_VAR: impl},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SHOW = """
import sys
import katas.phase2.enrichment as enrichment, katas.phase2.classify as classify
print(classify.__file__)
print(sorted(name for name in sys.modules if name.startswith("solutions.")))
"""


def test_the_learner_gets_their_own_modules_and_no_solution_is_imported() -> None:
    done = python(SHOW, switch.LEARNER)

    assert done.returncode == 0, done.stderr
    path, imported = done.stdout.splitlines()
    assert Path(path) == REPO / "katas/phase2/classify.py"
    assert imported == "[]", f"learner mode imported solution modules: {imported}"


def test_solutions_mode_routes_every_stub_import_to_its_twin() -> None:
    done = python(SHOW, switch.SOLUTIONS)

    assert done.returncode == 0, done.stderr
    path, imported = done.stdout.splitlines()
    assert Path(path) == REPO / "solutions/phase2/classify.py"
    assert "solutions.phase2.validation" in imported  # reached through the solution's imports


def test_a_stub_without_a_solution_twin_is_an_import_error_not_a_fallback() -> None:
    done = python("import katas.phase2.no_such_module", switch.SOLUTIONS)

    assert done.returncode != 0
    assert "No module named 'solutions.phase2.no_such_module'" in done.stderr


def test_tests_and_packages_are_never_redirected() -> None:
    assert switch.solution_name("katas.phase2.classify") == "solutions.phase2.classify"
    assert switch.solution_name("katas.phase2.test_classify") is None
    assert switch.solution_name("katas.phase2.conftest") is None
    assert switch.solution_name("katas.phase2") is None
    assert switch.solution_name("app.models") is None


def test_a_bad_setting_says_what_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(switch.ENV_VAR, "reference")

    with pytest.raises(
        ValueError, match=r"KATA_IMPL='reference' must be 'learner' \(your code\) or 'solutions'"
    ):
        switch.current()


def test_switching_after_a_stub_was_imported_is_refused() -> None:
    code = "import katas.phase2.classify\nfrom kata_engine import switch\nswitch.use_solutions()"
    done = python(code, switch.LEARNER)

    assert done.returncode != 0
    assert "switch set too late: katas.phase2.classify already imported" in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", "import katas.phase2.classify"],  # the worker's way in
        [sys.executable, "-m", "kata_engine.cli", "status"],
        [sys.executable, "-m", "pytest", "katas/phase2/test_classify.py", "-p", "no:cacheprovider"],
    ],
    ids=["import", "kata", "pytest"],
)
def test_a_typo_in_kata_impl_is_one_line_and_exit_2(command: list[str]) -> None:
    env = {**os.environ, switch.ENV_VAR: "solution"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2, f"exit {done.returncode}; expected 2. Output:\n{output}"
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "KATA_IMPL" in line]
    assert len(lines) == 1 and "'solution'" in lines[0] and "'solutions'" in lines[0], output
