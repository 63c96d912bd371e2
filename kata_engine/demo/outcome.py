"""What the pipeline wrote, read back as a read_committed consumer sees it, and the verdict."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from app.config import ErrorCode, Topics
from kata_engine.demo.plan import Plan, WindowKey

LATE = ErrorCode.LATE_EVENT.value  # a dead letter of phase 4, about an enriched reading


@dataclass(frozen=True)
class Aggregate:
    sensor_id: str
    start: float
    end: float
    count: int
    low: float
    high: float
    average: float


@dataclass
class Outcome:
    """Every record of the output topics so far, tallied."""

    topics: Topics
    enriched_by_status: Counter[str] = field(default_factory=Counter)
    enriched_by_sensor: Counter[str] = field(default_factory=Counter)
    dead_by_code: Counter[str] = field(default_factory=Counter)
    dead_by_sensor: Counter[str] = field(default_factory=Counter)
    aggregates: list[Aggregate] = field(default_factory=list)

    def add(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        data = json.loads(value) if value else {}
        if topic == self.topics.enriched:
            self.enriched_by_status[str(data.get("status"))] += 1
            self.enriched_by_sensor[str(data.get("sensor_id"))] += 1
        elif topic == self.topics.dead_letter:
            code = str(data.get("error_code"))
            self.dead_by_code[code] += 1
            sensor = key.decode(errors="replace") if key else "(no key)"
            self.dead_by_sensor[sensor] += 1
        elif topic == self.topics.window_aggregates:
            self.aggregates.append(
                Aggregate(
                    str(data["sensor_id"]),
                    float(data["window_start"]),
                    float(data["window_end"]),
                    int(data["count"]),
                    float(data["min_temperature"]),
                    float(data["max_temperature"]),
                    float(data["avg_temperature"]),
                )
            )

    @property
    def enriched(self) -> int:
        return self.enriched_by_status.total()

    @property
    def dead_letters(self) -> int:
        """Dead letters of raw readings (phase 2); late readings are counted apart."""
        return self.dead_by_code.total() - self.dead_by_code[LATE]

    @property
    def outcomes(self) -> int:
        return self.enriched + self.dead_letters

    def windows(self) -> Counter[WindowKey]:
        return Counter((a.sensor_id, a.start) for a in self.aggregates)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    lines: list[str]


def judge(plan: Plan, outcome: Outcome) -> Verdict:
    """Readings in == enriched + dead letters, and every expected window once, with its values."""
    lines: list[str] = []
    balanced = plan.readings == outcome.outcomes
    relation = "=" if balanced else "!="
    lines.append(
        f"{plan.readings} readings in {relation} {outcome.enriched} enriched + "
        f"{outcome.dead_letters} dead letters" + ("" if balanced else f" (= {outcome.outcomes})")
    )
    counts = outcome.windows()
    missing = sorted(set(plan.windows) - set(counts))
    extra = sorted(set(counts) - set(plan.windows))
    twice = sorted(key for key, n in counts.items() if n > 1)
    wrong = [
        a
        for a in outcome.aggregates
        if (a.sensor_id, a.start) in plan.windows
        and a.count != len(plan.windows[(a.sensor_id, a.start)])
    ]
    windows_ok = not (missing or extra or twice or wrong)
    if windows_ok:
        lines.append(f"all {len(plan.windows)} expected windows are there, each once")
    else:
        lines.append(
            f"windows: {len(plan.windows)} expected, {len(counts)} emitted; missing "
            f"{len(missing)}, unexpected {len(extra)}, emitted twice {len(twice)}, "
            f"wrong count {len(wrong)}"
        )
    return Verdict(balanced and windows_ok, lines)
