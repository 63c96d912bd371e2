"""kata crash's verdict: the outputs compared with the input, and the lines it prints."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.config import ErrorCode
from kata_engine.crash.plan import OUTPUTS, PARTITIONS, Event
from kata_engine.worker import Record


@dataclass
class Kill:
    point: str
    fed: int
    committed: int
    ends: dict[tuple[str, int], int]  # output (topic, partition) -> end offset at the kill


@dataclass
class Verdict:
    kills: list[Kill]
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    duplicated_per_kill: dict[str, Counter[str]] = field(default_factory=dict)
    late: int = 0
    late_too_early: list[str] = field(default_factory=list)
    windows_wrong: list[str] = field(default_factory=list)
    windows_missing: list[str] = field(default_factory=list)
    counts_wrong: dict[str, tuple[int, int]] = field(default_factory=dict)

    def failures(self) -> list[str]:
        """One sentence per broken rule, naming the task."""
        found: list[str] = []
        if self.lost.get("enriched-readings") or self.lost.get("sensor-dead-letter"):
            found.append(
                f"readings without an outcome: {self.lost['enriched-readings']} valid readings "
                f"never enriched, {self.lost['sensor-dead-letter']} malformed never "
                "dead-lettered (task 2.4: every event ends as exactly one outcome; 5.1: "
                "exactly_once)"
            )
        if any(self.duplicated.values()):
            found.append(
                f"outputs written twice: {self.duplicated} (task 5.1: under exactly_once an "
                "output and its source offset commit in one transaction; send every output "
                "in its source event's partition, phase 5 README)"
            )
        if self.late_too_early:
            found.append(
                f"{len(self.late_too_early)} readings dead-lettered as late while their own "
                f"partition had not reached their window, e.g. {self.late_too_early[:3]} "
                "(task 4.5: one horizon per partition, window_horizon[str(partition)]; "
                "another partition's event time must never close this one's windows)"
            )
        if self.windows_wrong or self.windows_missing:
            found.append(
                f"windows emitted with a wrong count ({len(self.windows_wrong)}, e.g. "
                f"{self.windows_wrong[:3]}) or never ({len(self.windows_missing)}, e.g. "
                f"{self.windows_missing[:3]}) (task 4.5: every window is emitted once with "
                "every reading folded into it. Both agents hold partition_lock(partition) for "
                "an event's whole work: a reading folded while a tick's close awaits the "
                "broker is lost when the close writes its stale state back. And a partition's "
                "windows close when that partition's own horizon passes them)"
            )
        if self.counts_wrong:
            sample = dict(list(self.counts_wrong.items())[:3])
            found.append(
                f"/status/ counts (served, true) differ for {len(self.counts_wrong)} sensors, "
                f"e.g. {sample} (task 3.1's counts through the table, 5.3's page; under "
                "exactly_once a crash neither loses nor repeats a count)"
            )
        return found


def window_start(timestamp: float, size: float) -> float:
    index = int(timestamp // size)
    return index * size


def late_ids(records: list[Record]) -> set[str]:

    late: set[str] = set()
    for record in records:
        if not record.topic.endswith("sensor-dead-letter"):
            continue
        letter = json.loads(record.value or b"{}")
        if letter.get("error_code") == ErrorCode.LATE_EVENT.value:
            payload = json.loads(base64.b64decode(letter["payload_base64"]))
            late.add(payload["reading_id"])
    return late


def expected_windows(
    offsets: dict[tuple[int, int], Event], records: list[Record], env: dict[str, str]
) -> Counter[tuple[str, float]]:
    size = float(env["KATA_WINDOW_SIZE"])
    late = late_ids(records)
    windows: Counter[tuple[str, float]] = Counter()
    for event in offsets.values():
        if event.reading_id is not None and event.reading_id not in late:
            windows[(event.sensor, window_start(event.timestamp, size))] += 1
    return windows


def judge(
    offsets: dict[tuple[int, int], Event],
    kills: list[Kill],
    records: list[Record],
    windows: Counter[tuple[str, float]],
    served: dict[str, int] | None,
    env: dict[str, str],
) -> Verdict:
    verdict = Verdict(kills)
    size = float(env["KATA_WINDOW_SIZE"])
    seen: dict[str, Counter[Any]] = {name: Counter() for name in OUTPUTS}
    verdict.duplicated_per_kill = {name: Counter() for name in OUTPUTS}
    emitted: dict[tuple[str, float], int] = {}
    by_id = {e.reading_id: (p, o, e) for (p, o), e in offsets.items() if e.reading_id}
    newest_before: dict[tuple[int, int], float] = {}  # (partition, offset) -> newest window end
    for partition in range(PARTITIONS):
        newest = float("-inf")
        for (p, offset), event in sorted(offsets.items()):
            if p != partition or event.reading_id is None:
                continue
            newest_before[(p, offset)] = newest
            newest = max(newest, window_start(event.timestamp, size) + size)
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        name = next(n for n in OUTPUTS if record.topic.endswith(n))
        value = json.loads(record.value or b"{}")
        identity: Any
        if name == "enriched-readings":
            identity = value.get("reading_id")
        elif name == "sensor-dead-letter":
            if value.get("error_code") == ErrorCode.LATE_EVENT.value:
                verdict.late += 1
                _check_late(value, by_id, newest_before, size, verdict)
                continue
            identity = (value.get("source_partition"), value.get("source_offset"))
        else:
            identity = (value.get("sensor_id"), value.get("window_start"))
            emitted[identity] = int(value.get("count", -1))
        seen[name][identity] += 1
        if seen[name][identity] > 1:
            verdict.duplicated_per_kill[name][_charged(kills, record)] += 1
    valid = {e.reading_id for e in offsets.values() if e.reading_id is not None}
    malformed = {(p, o) for (p, o), e in offsets.items() if e.reading_id is None}
    verdict.lost = {
        "enriched-readings": len(valid - set(seen["enriched-readings"])),
        "sensor-dead-letter": len(malformed - set(seen["sensor-dead-letter"])),
        "window-aggregates": len(set(windows) - set(seen["window-aggregates"])),
    }
    verdict.duplicated = {name: sum(n - 1 for n in seen[name].values()) for name in OUTPUTS}
    for window, count in sorted(windows.items()):
        if window not in emitted:
            verdict.windows_missing.append(f"{window[0]} @ {window[1]:.0f}: {count} readings")
        elif emitted[window] != count:
            verdict.windows_wrong.append(
                f"{window[0]} @ {window[1]:.0f}: emitted {emitted[window]}, holds {count}"
            )
    truth = Counter(e.sensor for e in offsets.values() if e.reading_id is not None)
    if served is None:  # not asked
        return verdict
    verdict.counts_wrong = {
        sensor: (served.get(sensor, 0), true)
        for sensor, true in sorted(truth.items())
        if served.get(sensor, 0) != true
    }
    return verdict


def _check_late(
    letter: dict[str, Any],
    by_id: dict[str, tuple[int, int, Event]],
    newest_before: dict[tuple[int, int], float],
    size: float,
    verdict: Verdict,
) -> None:
    """A late reading must be in a window its own partition had already reached."""

    reading_id = json.loads(base64.b64decode(letter["payload_base64"])).get("reading_id")
    if reading_id not in by_id:
        return
    partition, offset, event = by_id[reading_id]
    window_end = window_start(event.timestamp, size) + size
    if window_end > newest_before[(partition, offset)]:
        verdict.late_too_early.append(str(reading_id))


def _charged(kills: list[Kill], record: Record) -> str:
    point = "none"
    for kill in kills:
        if record.offset >= kill.ends.get((record.topic, record.partition), 0):
            point = kill.point
    return point


def meeting_line(verdict: Verdict) -> str:
    """Stage 1 in one line."""
    return (
        f"stage 1: windows wrong {len(verdict.windows_wrong)}, missing "
        f"{len(verdict.windows_missing)}; late {verdict.late} (before their partition's "
        f"horizon: {len(verdict.late_too_early)}); lost enriched "
        f"{verdict.lost['enriched-readings']}, dead {verdict.lost['sensor-dead-letter']}"
    )


def table(verdict: Verdict) -> list[str]:
    """The lines ``kata crash`` prints: one row per kill point, then the totals."""
    short = {
        "enriched-readings": "enriched",
        "sensor-dead-letter": "dead",
        "window-aggregates": "windows",
    }
    lines = [
        f"{'kill point':<14}{'fed':>7}{'committed':>11}  "
        + "  ".join(f"{'dup ' + short[n]:>13}" for n in OUTPUTS)
    ]
    for kill in verdict.kills:
        dups = "  ".join(f"{verdict.duplicated_per_kill[n][kill.point]:>13}" for n in OUTPUTS)
        lines.append(f"{kill.point:<14}{kill.fed:>7}{kill.committed:>11}  {dups}")
    lines.append(
        "total: lost "
        + ", ".join(f"{short[n]} {verdict.lost[n]}" for n in OUTPUTS)
        + "; duplicated "
        + ", ".join(f"{short[n]} {verdict.duplicated[n]}" for n in OUTPUTS)
        + f"; late {verdict.late} (of which before their partition's horizon: "
        + f"{len(verdict.late_too_early)}); windows wrong {len(verdict.windows_wrong)}, "
        + f"missing {len(verdict.windows_missing)}; /status/ counts wrong "
        + f"{len(verdict.counts_wrong)}"
    )
    return lines
