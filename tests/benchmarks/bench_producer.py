"""Producer throughput with ``--interval 0``: ``uv run python -m tests.benchmarks.bench_producer``.

Runs the producer CLI's ``main()`` in this process (interpreter start-up and imports excluded;
connecting and creating the topic included) against a broker from the broker chain, each run
into a fresh topic, and prints events/s per run and the median. It asserts nothing on time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
import uuid

from app import producer
from kata_engine.broker import provide_broker


def one_run(bootstrap_servers: str, count: int, include_bad: bool) -> float:
    """Seconds for one producer run of ``count`` events into a new topic."""
    topic = f"bench-producer-{uuid.uuid4().hex[:8]}"
    argv = ["--count", str(count), "--interval", "0", "--seed", "1", "--topic", topic]
    argv += ["--bootstrap-servers", bootstrap_servers]
    if include_bad:
        argv.append("--include-bad")
    summary = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(summary):
        exit_code = producer.main(argv)
    elapsed = time.perf_counter() - started
    if exit_code != 0:
        raise SystemExit(f"producer run failed with exit code {exit_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--valid-only", action="store_true", help="leave out --include-bad")
    args = parser.parse_args()
    with provide_broker() as broker:
        print(f"broker: {broker.bootstrap_servers} ({broker.source})")
        rates = []
        for run in range(1, args.runs + 1):
            seconds = one_run(broker.bootstrap_servers, args.count, not args.valid_only)
            rates.append(args.count / seconds)
            print(f"run {run}: {args.count} events in {seconds:.2f} s = {rates[-1]:,.0f} events/s")
    print(f"median of {args.runs}: {statistics.median(rates):,.0f} events/s")


if __name__ == "__main__":
    main()
