"""What the demo sends, and what it must get back.

The readings come from the provided producer's generator (app.producer): a small fleet of sensors,
about 10% malformed events of every kind. Their event times span a few tumbling windows of the
recent past, in order, so that later readings close the earlier windows during the run and a
quiet partition closes the last ones (phase 4).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field

from app.producer import VALID, Event, generate_events

WindowKey = tuple[str, float]  # (sensor_id, window_start)


@dataclass(frozen=True)
class Plan:
    """The events to send and the outcome they must have."""

    events: list[Event]
    window_size: float
    kinds: Counter[str] = field(default_factory=Counter)  # "valid" or a malformed kind -> n
    windows: dict[WindowKey, list[float]] = field(default_factory=dict)  # -> its temperatures

    @property
    def readings(self) -> int:
        return len(self.events)

    @property
    def valid(self) -> int:
        return self.kinds[VALID]

    @property
    def malformed(self) -> int:
        return self.readings - self.valid


def window_start(timestamp: float, size: float) -> float:
    """The start of the epoch-aligned tumbling window of ``size`` seconds holding ``timestamp``."""
    index = math.floor(timestamp / size)
    if index * size > timestamp:  # float division can land one window off at a boundary
        index -= 1
    elif (index + 1) * size <= timestamp:
        index += 1
    return index * size


def make_plan(
    *, count: int, sensors: int, windows: int, window_size: float, now: float, seed: int = 7
) -> Plan:
    """``count`` readings whose event times cover ``windows`` whole windows ending before now."""
    # The history ends two windows before now, on a window boundary: every window is complete
    # in event time, and none of them is "the current minute" of the wall clock.
    first = (math.floor(now / window_size) - windows - 2) * window_size
    step = windows * window_size / count
    events = list(
        generate_events(
            count, seed=seed, sensors=sensors, include_bad=True, start_time=first, step=step
        )
    )
    kinds: Counter[str] = Counter(event.kind for event in events)
    expected: dict[WindowKey, list[float]] = {}
    for event in events:
        if event.kind != VALID or event.value is None:
            continue
        reading = json.loads(event.value)
        key = (str(reading["sensor_id"]), window_start(float(reading["timestamp"]), window_size))
        expected.setdefault(key, []).append(float(reading["temperature"]))
    return Plan(events, window_size, kinds, expected)
