"""The demo's summary, drawn with rich: tables, and a small temperature chart per sensor.

rich draws colours and live displays only on a terminal; in a pipe or a CI log the same tables
come out as plain text, without escape codes.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from rich.columns import Columns
from rich.console import Console
from rich.table import Table

from app.producer import VALID
from kata_engine.demo.outcome import LATE, Outcome, Verdict
from kata_engine.demo.plan import Plan

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], low: float, high: float) -> str:
    """One block character per value, scaled to ``low``..``high`` (shared by every sensor)."""
    span = high - low
    if span <= 0:
        return SPARKS[len(SPARKS) // 2] * len(values)
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int((value - low) / span * len(SPARKS)))] for value in values
    )


def clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(epoch))


def _counts(title: str, counts: Counter[str], first: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first)
    table.add_column("count", justify="right")
    for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(name, str(n))
    table.add_row("[b]total[/b]", f"[b]{counts.total()}[/b]")
    return table


def render(
    console: Console,
    plan: Plan,
    outcome: Outcome,
    status: dict[str, Any] | str,
    verdict: Verdict,
) -> None:
    """Print the whole summary."""
    console.print()
    kinds = len([kind for kind in plan.kinds if kind != VALID])
    console.print(
        f"[b]Readings in[/b] (sensor-readings): {plan.readings}: {plan.valid} valid, "
        f"{plan.malformed} malformed ({kinds} kinds, as app.catalogue makes them)"
    )
    console.print(
        Columns(
            [
                _counts("Enriched, by status", outcome.enriched_by_status, "enriched-readings"),
                _counts("Dead letters, by code", outcome.dead_by_code, "sensor-dead-letter"),
            ]
        )
    )
    if outcome.dead_by_code[LATE]:
        console.print(f"({outcome.dead_by_code[LATE]} of them late readings, phase 4)")
    _per_sensor(console, outcome)
    _windows(console, outcome)
    console.print()
    console.print("[b]GET /status/[/b] (phase 5)")
    if isinstance(status, str):
        console.print(status)
    else:
        console.print_json(json.dumps(status))
    console.print()
    style = "bold green" if verdict.ok else "bold red"
    head = "OK" if verdict.ok else "NOT OK"
    for line in verdict.lines:
        console.print(f"[{style}]{head}[/{style}]: {line}")


def _per_sensor(console: Console, outcome: Outcome) -> None:
    table = Table(title="Per sensor", title_justify="left")
    for name, justify in (
        ("sensor", "left"),
        ("enriched", "right"),
        ("dead letters", "right"),
        ("windows", "right"),
        ("avg °C per window", "left"),
        ("range", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    sensors = sorted(
        set(outcome.enriched_by_sensor)
        | set(outcome.dead_by_sensor)
        | {a.sensor_id for a in outcome.aggregates}
    )
    for sensor in sensors:
        own = sorted(
            (a for a in outcome.aggregates if a.sensor_id == sensor), key=lambda a: a.start
        )
        averages = [a.average for a in own]
        low, high = (min(averages), max(averages)) if averages else (0.0, 0.0)
        table.add_row(
            sensor,
            str(outcome.enriched_by_sensor[sensor]),
            str(outcome.dead_by_sensor[sensor]),
            str(len(own)),
            sparkline(averages, low, high),  # each sensor on its own scale: its trend shows
            f"{low:.1f}-{high:.1f}" if own else "-",
        )
    console.print(table)


def _windows(console: Console, outcome: Outcome) -> None:
    starts = sorted({a.start for a in outcome.aggregates})
    sensors = sorted({a.sensor_id for a in outcome.aggregates})
    by_key = {(a.sensor_id, a.start): a for a in outcome.aggregates}
    table = Table(
        title="Window aggregates: avg °C (readings); min-max °C below",
        title_justify="left",
    )
    table.add_column("window, UTC")
    for sensor in sensors:
        table.add_column(sensor, justify="right")
    for start in starts:
        cells = []
        for sensor in sensors:
            found = by_key.get((sensor, start))
            cells.append(
                "-"
                if found is None
                else f"{found.average:.1f} ({found.count})\n{found.low:.1f}-{found.high:.1f}"
            )
        size = next(a.end - a.start for a in outcome.aggregates)
        table.add_row(f"{clock(start)}\n-{clock(start + size)}", *cells)
    console.print(table)
