"""The JSON of ``GET /dashboard/data.json``, built from plain mappings (testable without Faust).

Every section has a ``state``:

- ``ok``: ``values`` holds the data (maybe still empty: nothing happened yet);
- ``absent``: the table behind it is not in this worker (its phase is not loaded); ``note`` says;
- ``not_built``: its table is there, still empty, and a stub of its phase raised
  NotImplementedError in this worker; ``note`` names the task.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from app.dashboard.recorder import WindowPoint

DASHBOARD_VERSION = 1
CHART_SENSORS = 8  # the line chart draws the sensors with the newest windows, at most this many
THROUGHPUT_AVERAGE_S = 5  # readings/s: the mean of the last 5 complete seconds
THROUGHPUT_SERIES_S = 60

# section -> (the table it reads, the phase that builds the table)
TABLE_SECTIONS: dict[str, tuple[str, int]] = {
    "readings_per_sensor": ("sensor-counts", 3),
    "readings_per_status": ("status-counts", 3),
    "late_events_per_sensor": ("late-events", 4),
    "dead_letters_per_error_code": ("dead-letter-counts", 5),
    "windows_per_sensor": ("latest-windows", 5),
}


@dataclass(frozen=True)
class PartitionOffsets:
    """One partition of the readings topic: its end offset and this worker's committed offset."""

    end: int | None
    committed: int | None

    @property
    def lag(self) -> int | None:
        """Records not yet committed; None when the end is unknown. Nothing committed yet
        counts from offset 0: the app reads a new partition from the beginning (Faust's
        consumer_auto_offset_reset is "earliest")."""
        if self.end is None:
            return None
        return max(self.end - (self.committed or 0), 0)


def table_section(
    name: str,
    contents: Mapping[Any, Any] | None,
    stubs: Mapping[str, str],
    values: Any,
) -> dict[str, Any]:
    """The section for table ``name`` (None: not in this worker) showing ``values``."""
    table, phase = TABLE_SECTIONS[name]
    if contents is None:
        return {
            "state": "absent",
            "note": f"phase {phase} is not running in this worker (no table {table!r})",
        }
    hit = [task for task in stubs if task.split(".")[0] == str(phase)]
    if not contents and hit:
        first = hit[0]
        return {"state": "not_built", "note": f"not built yet: task {first} ({stubs[first]})"}
    return {"state": "ok", "values": values}


def counts(contents: Mapping[Any, Any] | None) -> dict[str, int]:
    return {str(key): int(value) for key, value in sorted((contents or {}).items())}


def dead_letter_totals(contents: Mapping[Any, Any] | None) -> dict[str, int]:
    """Task 5.2's table holds {partition: {error_code: count}}: add the partitions up."""
    total: Counter[str] = Counter()
    for per_code in (contents or {}).values():
        if isinstance(per_code, Mapping):
            total.update({str(code): int(count) for code, count in per_code.items()})
    return dict(sorted(total.items()))


def chart_windows(history: Mapping[str, list[WindowPoint]]) -> dict[str, list[dict[str, Any]]]:
    """The CHART_SENSORS sensors whose latest window is newest, each with its last windows."""
    newest = sorted(
        (sensor for sensor, points in history.items() if points),
        key=lambda sensor: (-history[sensor][-1].window_start, sensor),
    )[:CHART_SENSORS]
    return {sensor: [asdict(point) for point in history[sensor]] for sensor in sorted(newest)}


def lag_section(topic: str, offsets: Mapping[int, PartitionOffsets] | str) -> dict[str, Any]:
    """Lag per partition of ``topic``; ``offsets`` is a note when there are none to show."""
    if isinstance(offsets, str):
        return {"state": "absent", "topic": topic, "note": offsets}
    return {
        "state": "ok",
        "topic": topic,
        "values": {
            str(partition): {"end": o.end, "committed": o.committed, "lag": o.lag}
            for partition, o in sorted(offsets.items())
        },
    }


def dashboard_body(
    *,
    app_id: str,
    guarantee: str,
    tables: Mapping[str, Mapping[Any, Any] | None],
    windows: Mapping[str, list[WindowPoint]],
    readings_topic: str,
    offsets: Mapping[int, PartitionOffsets] | str,
    per_second: list[int],
    stubs: Mapping[str, str],
    generated_at: float,
) -> dict[str, Any]:
    """Everything the page draws. ``tables``: the contents of each table of TABLE_SECTIONS by
    table name, None for a table this worker does not have. ``per_second``: readings handled
    in each of the last complete seconds, oldest first."""

    def section(name: str, values: Any) -> dict[str, Any]:
        return table_section(name, tables.get(TABLE_SECTIONS[name][0]), stubs, values)

    recent = per_second[-THROUGHPUT_AVERAGE_S:]
    return {
        "version": DASHBOARD_VERSION,
        "app_id": app_id,
        "processing_guarantee": guarantee,
        "generated_at": generated_at,
        "sections": {
            "readings_per_sensor": section(
                "readings_per_sensor", counts(tables.get("sensor-counts"))
            ),
            "readings_per_status": section(
                "readings_per_status", counts(tables.get("status-counts"))
            ),
            "dead_letters_per_error_code": section(
                "dead_letters_per_error_code", dead_letter_totals(tables.get("dead-letter-counts"))
            ),
            "late_events_per_sensor": section(
                "late_events_per_sensor", counts(tables.get("late-events"))
            ),
            "windows_per_sensor": section("windows_per_sensor", chart_windows(windows)),
            "lag_per_partition": lag_section(readings_topic, offsets),
        },
        "throughput": {
            "readings_per_second": sum(recent) / len(recent) if recent else 0.0,
            "per_second": per_second[-THROUGHPUT_SERIES_S:],
        },
        "not_built": dict(stubs),
    }
