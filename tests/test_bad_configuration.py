"""A bad environment variable stops `kata demo`, `kata crash` and the worker with one line.

app/config.py reads the environment at import; these commands catch its ValueError before a
traceback (twenty lines of import machinery) reaches the terminal. Subprocesses: this test
process has imported app.config long ago, with a good environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = {"KATA_PROCESSING_GUARANTEE": "bogus"}
EXPECTED = "bad configuration: KATA_PROCESSING_GUARANTEE='bogus' must be at_least_once or"


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "kata_engine.cli", "demo"],
        [sys.executable, "-m", "kata_engine.cli", "crash"],
        [sys.executable, "-m", "faust", "-A", "app.main", "worker", "-l", "info"],
    ],
    ids=["kata demo", "kata crash", "worker"],
)
def test_a_bad_guarantee_is_one_line_and_exit_2(command: list[str], tmp_path: Path) -> None:
    env = {**os.environ, **BAD, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2 and EXPECTED in output and len(output.splitlines()) == 1, (
        f"{' '.join(command[2:])} with KATA_PROCESSING_GUARANTEE=bogus exited "
        f"{done.returncode} and printed:\n{output}\nexpected exit 2 and one line: {EXPECTED}..."
    )
