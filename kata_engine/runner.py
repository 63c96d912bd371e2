"""Run pytest in a subprocess and read back its per-test report (``--kata-report``).

The subprocess gets the implementation switch set explicitly, so a learner-mode run never
inherits ``KATA_IMPL=solutions`` from its parent (CI runs the parent with ``--solutions``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kata_engine import switch
from kata_engine.report import RunReport


class RunFailed(Exception):
    """pytest did not produce a report (a usage error, a crash); the message has its output."""


@dataclass(frozen=True)
class PytestRun:
    report: RunReport
    returncode: int
    output: str  # stdout and stderr, for diagnosing a surprising result


def run_pytest(
    targets: Sequence[str],
    *,
    root: Path,
    solutions: bool = False,
    markexpr: str | None = "not kafka",
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float | None = 600,
    on_start: Callable[[str], None] | None = None,
) -> PytestRun:
    """Run ``pytest targets`` in ``root`` and return the parsed report.

    ``solutions`` tests the reference modules, otherwise the learner's.
    ``markexpr`` defaults to leaving the broker-backed tests out. ``on_start`` is called with
    each test's node id as it starts (from the run's progress file, polled).
    """
    child_env = dict(os.environ if env is None else env)
    child_env[switch.ENV_VAR] = switch.SOLUTIONS if solutions else switch.LEARNER
    child_env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    with tempfile.TemporaryDirectory(prefix="kata-report-") as scratch:
        report_path = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "pytest", *targets, f"--kata-report={report_path}"]
        command += ["-q", "--continue-on-collection-errors"]
        if solutions:
            command.append("--solutions")
        if markexpr:
            command += ["-m", markexpr]
        command += list(extra_args)
        progress = Path(scratch) / "progress.txt"
        if on_start is not None:
            command.append(f"--kata-progress={progress}")
        try:
            completed = _run(command, root, child_env, timeout, progress, on_start)
        except subprocess.TimeoutExpired as exc:
            shown = " ".join(command)
            raise RunFailed(f"pytest did not finish within {timeout} s: {shown}") from exc
        output = completed.stdout + completed.stderr
        # 3: internal error, 4: usage error (a bad option, a missing file): no results to trust.
        if completed.returncode in (3, 4) or not report_path.is_file():
            tail = "\n".join(output.strip().splitlines()[-15:])
            raise RunFailed(f"pytest exited {completed.returncode}:\n{tail}")
        return PytestRun(RunReport.read(report_path), completed.returncode, output)


def _run(
    command: list[str],
    root: Path,
    env: Mapping[str, str],
    timeout: float | None,
    progress: Path,
    on_start: Callable[[str], None] | None,
) -> subprocess.CompletedProcess[str]:
    if on_start is None:
        return subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
        )
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = 0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=err, text=True)
        try:
            while True:
                finished = process.poll() is not None
                lines = (
                    progress.read_text(encoding="utf-8").splitlines() if progress.is_file() else []
                )
                for nodeid in lines[seen:]:
                    on_start(nodeid)
                seen = len(lines)
                if finished:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise subprocess.TimeoutExpired(command, timeout or 0)
                time.sleep(0.2)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
