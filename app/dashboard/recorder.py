"""What the dashboard records while the worker runs, through Faust's and Python's extension points.

- ``DashboardSensor`` (a Faust sensor, added with ``app.sensors.add``): every window a table named
  ``latest-windows`` is given (task 5.2 keeps only the latest one per sensor; the chart wants the
  last few), and every reading of the readings topic that the worker has finished with.
- ``StubWatch`` (a logging handler): the ``NotImplementedError("task N.M: ...")`` of a stub the
  worker ran into, so the page can say "not built yet" instead of showing an error.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, override

from faust.sensors import Sensor
from faust.types import TP, CollectionT, Message

LATEST_WINDOWS_TABLE = "latest-windows"  # task 5.2's table
WINDOWS_PER_SENSOR = 12  # the line chart's last windows
SENSORS_TRACKED = 200  # bounded memory, whatever sensor ids arrive
THROUGHPUT_SECONDS = 120  # per-second buckets kept
_STUB_MESSAGE = re.compile(r"^task (\d+)\.(\d+): (.*?)(?: — run .*)?$", re.DOTALL)


@dataclass(frozen=True)
class WindowPoint:
    """One closed window of one sensor, as the chart draws it."""

    window_start: float
    window_end: float
    count: int
    avg_temperature: float


def window_point(value: Any) -> WindowPoint | None:
    """A WindowPoint from a WindowAggregate (or its dict); None for anything else."""
    data = value.asdict() if hasattr(value, "asdict") else value
    if not isinstance(data, dict):
        return None
    try:
        return WindowPoint(
            window_start=float(data["window_start"]),
            window_end=float(data["window_end"]),
            count=int(data["count"]),
            avg_temperature=float(data["avg_temperature"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


class WindowHistory:
    """The last WINDOWS_PER_SENSOR windows of each sensor, newest last."""

    def __init__(self) -> None:
        self._by_sensor: OrderedDict[str, OrderedDict[float, WindowPoint]] = OrderedDict()

    def add(self, sensor_id: str, point: WindowPoint) -> None:
        windows = self._by_sensor.setdefault(sensor_id, OrderedDict())
        self._by_sensor.move_to_end(sensor_id)  # least recently updated sensors go first
        windows[point.window_start] = point
        if len(windows) > WINDOWS_PER_SENSOR or list(windows)[-1] != point.window_start:
            ordered = sorted(windows.items())[-WINDOWS_PER_SENSOR:]
            windows.clear()
            windows.update(ordered)
        while len(self._by_sensor) > SENSORS_TRACKED:
            self._by_sensor.popitem(last=False)

    def series(self) -> dict[str, list[WindowPoint]]:
        return {sensor: list(windows.values()) for sensor, windows in self._by_sensor.items()}


class Throughput:
    """Readings finished per wall-clock second."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._buckets: deque[list[int]] = deque(maxlen=THROUGHPUT_SECONDS)  # [second, count]

    def add(self, count: int = 1) -> None:
        second = int(self._clock())
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([second, count])

    def per_second(self, seconds: int) -> list[int]:
        """Counts of the last ``seconds`` COMPLETE seconds, oldest first (zeros where idle)."""
        now = int(self._clock())
        counts = dict((second, count) for second, count in self._buckets)
        return [counts.get(second, 0) for second in range(now - seconds, now)]


class DashboardSensor(Sensor):
    """Records windows and throughput as the worker's streams and tables report them."""

    def __init__(self, readings_topic: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.readings_topic = readings_topic
        self.windows = WindowHistory()
        self.throughput = Throughput()

    @override
    def on_table_set(self, table: CollectionT, key: Any, value: Any) -> None:
        if table.name == LATEST_WINDOWS_TABLE and isinstance(key, str):
            point = window_point(value)
            if point is not None:
                self.windows.add(key, point)

    @override
    def on_message_out(self, tp: TP, offset: int, message: Message) -> None:
        if tp.topic == self.readings_topic:  # every stream is done with it: one reading handled
            self.throughput.add()


class StubWatch(logging.Handler):
    """Remembers the tasks whose stub raised NotImplementedError in this worker (logged by Faust
    when an agent crashes, by aiohttp when a page raises)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self._lock = threading.Lock()
        self._tasks: dict[str, str] = {}

    @override
    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, NotImplementedError):
            return
        found = _STUB_MESSAGE.match(str(error))
        if found:
            with self._lock:
                self._tasks[f"{found[1]}.{found[2]}"] = found[3]

    def tasks(self) -> dict[str, str]:
        """{"5.2": "count dead letters per partition", ...}, sorted by task."""
        with self._lock:
            items = list(self._tasks.items())
        return dict(sorted(items, key=lambda item: tuple(int(n) for n in item[0].split("."))))
