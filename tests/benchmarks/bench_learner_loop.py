"""The learner's loop on the stubs: ``uv run python -m tests.benchmarks.bench_learner_loop``.

Times ``pytest katas/phaseN`` (what a learner runs after every edit) against the stubs as
shipped, without a broker, per phase, and the floor under it: a bare
``python -c "import pytest, faust, hypothesis"``. Both run as fresh interpreters through the same
executable, so the ratio compares like with like. Prints every run, the median of ``--runs``
per command and each phase's ratio to the floor. It asserts nothing on time.

Run it on a quiet machine: other processes on the same cores show up in the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOOR = [sys.executable, "-c", "import pytest, faust, hypothesis"]


def learner_env() -> dict[str, str]:
    """The learner's environment: their own modules, no configured broker."""
    # Bytecode caching as a learner has it: pytest caches its rewritten test modules there.
    env = {**os.environ, "KATA_IMPL": "learner"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    return env


def seconds(command: Sequence[str], env: dict[str, str]) -> float:
    """Wall time of one run of ``command`` in the repository root."""
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
    return time.perf_counter() - started


def median_of(label: str, command: Sequence[str], runs: int, env: dict[str, str]) -> float:
    seconds(command, env)  # warm-up: the first run pays for cold file caches
    times = [seconds(command, env) for _ in range(runs)]
    median = statistics.median(times)
    shown = " ".join(f"{t:.2f}" for t in times)
    print(f"{label:<28} runs: {shown} s   median {median:.2f} s", flush=True)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("phases", nargs="*", help="phase folders (default: every katas/phaseN)")
    args = parser.parse_args()
    phases = args.phases or sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("katas/phase*"))
    env = learner_env()
    floor = median_of("import pytest, faust, hyp.", FLOOR, args.runs, env)
    for phase in phases:
        command = [sys.executable, "-m", "pytest", phase, "-q", "-p", "no:cacheprovider"]
        median = median_of(f"pytest {phase}", command, args.runs, env)
        print(f"{'':<28} ratio to the import floor: {median / floor:.1f}x", flush=True)


if __name__ == "__main__":
    main()
