"""kata crash's input: the sensors, their event-time lines, the bursts, and the settings."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass

from aiokafka.partitioner import murmur2

from app.config import Settings

PARTITIONS = 4
SENSORS_PER_PARTITION = 6
DAY = 86_400.0  # partition p's event time runs p days ahead of partition 0's
STEP = 0.5  # event-time seconds between two readings of one partition
START = 1_735_689_600.0  # 2025-01-01T00:00:00Z
MALFORMED_EVERY = 23
FEED_PER_S = 160  # readings per second, all partitions, while the workers die
PRELOAD = 800  # sent before the first worker starts
RESERVE = 1_200  # never sent before the last kill: every kill lands mid-stream
KILL_POINTS = ("early", "after-commit", "mid-interval")
SESSION_EXPIRY_S = 7.0  # the killed member's session (6 s below) must end before a restart
WAIT_S = 300.0  # a guard against a hang, not a performance figure
# Output silence that means the pipeline is idle: above the close delay (1 s) plus a tick (0.5 s)
# plus a commit interval (COMMIT_INTERVAL below; 6 s leaves room for Faust's 2.8 s), the longest a
# window's aggregate may take to become visible.
SETTLE_S = 6.0
OUTPUTS = ("enriched-readings", "sensor-dead-letter", "window-aggregates")
SETTINGS = {
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_REBALANCE_TIMEOUT": "10",
    "KATA_WINDOW_SIZE": "10",
    "KATA_WINDOW_GRACE": "2",
    "KATA_WINDOW_CLOSE_DELAY": "1",  # short: ticks race the readings (below a 2.8 s interval)
    "KATA_WINDOW_TICK_INTERVAL": "0.5",
    "KATA_PROCESSING_GUARANTEE": "exactly_once",
    "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
}
# The crash workers' own commit interval (the kill "mid-interval" lands half of one after a commit):
# KATA_COMMIT_INTERVAL if set, else the exactly_once default (app/config.py).
COMMIT_INTERVAL = Settings.from_env({**os.environ, **SETTINGS}).commit_interval_s


# Stage 1, "the agents meet": at_least_once (every output visible at once), no kill. Partition
# by partition, a burst of readings opens a new window for each of its sensors; the next burst
# is sent as soon as the first aggregate of the previous one appears, that is while a tick is
# closing that partition's windows, one sensor (and one broker round trip) after another.
MEET_SETTINGS = {
    **SETTINGS,
    "KATA_PROCESSING_GUARANTEE": "at_least_once",
    "KATA_WINDOW_GRACE": "10",  # a burst never closes the previous window itself: ticks do
    "KATA_WINDOW_CLOSE_DELAY": "0.4",
    "KATA_WINDOW_TICK_INTERVAL": "0.1",
}
MEET_SENSORS = 60  # per partition: a tick's close awaits one delivery per sensor
MEET_BURSTS = 10  # per partition
MEET_NO_CLOSE_S = 8.0  # no aggregate of a burst by then: send the next one all the same


@dataclass(frozen=True)
class Event:
    key: bytes
    value: bytes
    partition: int
    reading_id: str | None  # None: malformed
    sensor: str
    timestamp: float


def partition_of(key: bytes, partitions: int = PARTITIONS) -> int:
    """The partition Kafka's default partitioner (and so Faust's producer) picks for ``key``."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


def sensors_by_partition(per_partition: int = SENSORS_PER_PARTITION) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    number = 0
    while any(len(found[p]) < per_partition for p in range(PARTITIONS)):
        number += 1
        sensor = f"sensor-{number:03d}"
        partition = partition_of(sensor.encode())
        if len(found[partition]) < per_partition:
            found[partition].append(sensor)
    return dict(found)


def reading_event(partition: int, sensor: str, reading_id: str, timestamp: float) -> Event:
    reading = {
        "reading_id": reading_id,
        "sensor_id": sensor,
        "temperature": round(15.0 + (len(reading_id) + int(timestamp)) % 31 * 0.5, 2),
        "humidity": 45.0,
        "timestamp": timestamp,
    }
    value = json.dumps(reading, separators=(",", ":")).encode()
    return Event(sensor.encode(), value, partition, reading_id, sensor, timestamp)


def meeting_bursts() -> dict[int, list[list[Event]]]:
    """Per partition, burst k: one reading per sensor in window k of the partition's time line.

    Within a burst the event times still rise (the last sensor's reading is the earliest).
    """
    size = float(MEET_SETTINGS["KATA_WINDOW_SIZE"])
    sensors = sensors_by_partition(MEET_SENSORS)
    return {
        partition: [
            [
                reading_event(
                    partition,
                    sensor,
                    f"meet-{partition}-{burst:03d}-{index:03d}",
                    START + partition * DAY + burst * size + (MEET_SENSORS - index) * 0.01,
                )
                # Last sensor first: a close goes through the sensors in order, so the burst
                # reaches the sensors the close has not reached yet.
                for index, sensor in reversed(list(enumerate(sensors[partition])))
            ]
            for burst in range(MEET_BURSTS)
        ]
        for partition in range(PARTITIONS)
    }


def make_events(count: int) -> list[Event]:
    """``count`` events, round robin over the partitions, each partition in event-time order."""
    sensors = sensors_by_partition()
    events: list[Event] = []
    for n in range(count):
        partition, step = n % PARTITIONS, n // PARTITIONS
        sensor = sensors[partition][step % SENSORS_PER_PARTITION]
        timestamp = START + partition * DAY + step * STEP
        if n % MALFORMED_EVERY == MALFORMED_EVERY - 1:
            value = b'{"sensor_id": "' + sensor.encode() + b'", "temperature": "hot"'
            events.append(Event(sensor.encode(), value, partition, None, sensor, timestamp))
            continue
        reading_id = f"crash-{partition}-{step:06d}"
        events.append(reading_event(partition, sensor, reading_id, timestamp))
    return events
