"""Draw bench_throughput's commit-interval curve to a PNG (runs in the bench environment).

``python -m tests.benchmarks.commit_chart --json bench_throughput.json --chart docs/x.png``:
whole-pipeline p50/p99 latency and throughput per exactly_once commit interval, against
at_least_once. Needs matplotlib (the bench group).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # a file, no display
import matplotlib.pyplot as plt


def draw(curve: dict[str, dict[str, Any]], chart: Path) -> None:
    eos = sorted(
        (f for f in curve.values() if f["guarantee"] == "exactly_once"),
        key=lambda f: f["commit_interval_s"],
    )
    alo = [f for f in curve.values() if f["guarantee"] == "at_least_once"]
    intervals = [f["commit_interval_s"] for f in eos]
    figure, (latency_axes, rate_axes) = plt.subplots(1, 2, figsize=(11, 4.2))
    latency_axes.plot(intervals, [f["p50_ms"] for f in eos], "o-", label="exactly_once p50")
    latency_axes.plot(intervals, [f["p99_ms"] for f in eos], "s-", label="exactly_once p99")
    for figures in alo:
        latency_axes.axhline(
            figures["p99_ms"], linestyle="--", color="grey", label="at_least_once p99"
        )
    latency_axes.axhline(500, linestyle=":", color="red", label="target: p99 <= 500 ms")
    latency_axes.set(
        xlabel="KATA_COMMIT_INTERVAL (s)", ylabel="produce -> visible, read_committed (ms)"
    )
    latency_axes.set_xscale("log")
    latency_axes.legend(fontsize=8)
    rate_axes.plot(intervals, [f["events_per_s"] for f in eos], "o-", label="exactly_once")
    for figures in alo:
        rate_axes.axhline(
            figures["events_per_s"], linestyle="--", color="grey", label="at_least_once"
        )
    rate_axes.set(xlabel="KATA_COMMIT_INTERVAL (s)", ylabel="events/s, whole pipeline")
    rate_axes.set_xscale("log")
    rate_axes.legend(fontsize=8)
    figure.suptitle("Whole pipeline (phases 2-5): latency and throughput per commit interval")
    figure.tight_layout()
    chart.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(chart, dpi=100)
    print(f"chart written to {chart}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--chart", type=Path, required=True)
    arguments = parser.parse_args()
    results = json.loads(arguments.json.read_text())
    draw(results["commit_interval_curve"], arguments.chart)


if __name__ == "__main__":
    main()
