"""How long the local-jar broker takes to start: cold (empty jar cache) and warm, median of N.

    uv run python -m tests.benchmarks.bench_broker_start [--runs 3]

Cold points XDG_CACHE_HOME at an empty temp dir, so Maven copies the jars again (from ~/.m2 if
it has them: this measures our cache, not the network). Warm reuses the real per-user cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from kata_engine.broker.jars import ensure_jars, local_broker


def start_and_stop() -> tuple[float, float]:
    """Seconds to a ready broker (jars, format, start, metadata answer) and seconds to stop it."""
    started = time.perf_counter()
    with local_broker() as broker:
        ready = time.perf_counter()
        broker.stop()
        stopped = time.perf_counter()
    return ready - started, stopped - ready


def with_cache_dir(
    cache_dir: str, action: Callable[[], tuple[float, float]]
) -> tuple[float, float]:
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = cache_dir
    try:
        return action()
    finally:
        if previous is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = previous


def report(label: str, figures: list[tuple[float, float]]) -> None:
    starts = [start for start, _ in figures]
    stops = [stop for _, stop in figures]
    print(
        f"{label}: start median {statistics.median(starts):.1f} s "
        f"(runs: {', '.join(f'{s:.1f}' for s in starts)}), "
        f"stop median {statistics.median(stops):.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    ensure_jars()  # warm the real cache first, so "warm" means warm
    cold = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-broker-cache-") as empty:
            cold.append(with_cache_dir(empty, start_and_stop))
    warm = [start_and_stop() for _ in range(runs)]
    report("cold (empty jar cache, warm ~/.m2)", cold)
    report("warm (jars cached)", warm)


if __name__ == "__main__":
    main()
