"""bench_throughput's raw aiokafka loop in a process of its own, like every other contender.

``python -m tests.benchmarks.raw_peer --servers HOST:PORT --token T`` runs ``raw_loop`` on the
run named ``T`` (topics ``bench-T-...``, group ``bench-T``) until it is stopped (SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from tests.benchmarks.bench_throughput import Run, raw_loop


async def serve(run: Run) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await raw_loop(run, 0, stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", required=True)
    parser.add_argument("--token", required=True)
    arguments = parser.parse_args()
    asyncio.run(serve(Run(arguments.servers, arguments.token)))


if __name__ == "__main__":
    main()
