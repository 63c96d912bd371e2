"""Mutants of phase 3: plausible wrong solutions the phase 3 tests must catch."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator
from typing import Any

from tests.mutants import Mutant, replace


def _counts_raw_readings() -> None:
    from app.faust_app import app, topics
    from solutions.phase3 import counting as module

    async def count(stream: Any) -> AsyncIterator[tuple[str, int]]:
        # The mistake: counts sensor-readings, before validation: dead letters count too.
        async for raw in stream:
            try:
                sensor_id = str(json.loads(raw)["sensor_id"])
            except (ValueError, KeyError, TypeError):
                sensor_id = "unknown"
            module.sensor_counts[sensor_id] += 1
            yield sensor_id, module.sensor_counts[sensor_id]

    replace(module, "count_by_sensor", app.agent(topics.readings, name="count_raw")(count))


def _no_repartition() -> None:
    from solutions.phase3 import status_counts as module

    async def count(stream: Any) -> AsyncIterator[tuple[str, int]]:
        async for reading in stream:  # the mistake: no group_by, counted where it arrives
            module.status_counts[reading.status] += 1
            yield reading.status, module.status_counts[reading.status]

    _rebind(module, count, agent="count_by_status")


def _timer_logs_everyone() -> None:
    from solutions.phase3 import threshold as module

    def newly_busy(counts: Any, threshold: int, already: set[str]) -> list[str]:
        return sorted(counts)  # the mistake: every sensor, whatever its count

    replace(module, "newly_busy", newly_busy)


def _crossing_logged_every_tick() -> None:
    from solutions.phase3 import threshold as module

    def newly_busy(counts: Any, threshold: int, already: set[str]) -> list[str]:
        # The mistake: no memory of what was logged, so a busy sensor is logged every tick.
        return original(counts, threshold, set())

    original = module.newly_busy
    replace(module, "newly_busy", newly_busy)


def _hook_counts_readings_as_sensors() -> None:
    from solutions.phase3 import lifecycle as module
    from solutions.phase3.counting import sensor_counts

    def totals() -> tuple[int, int]:
        readings = sum(sensor_counts.values())
        return readings, readings  # the mistake: the readings reported as the sensors

    replace(module, "totals", totals)


def _rebind(module: Any, body: Any, agent: str = "count_by_sensor") -> None:
    # An agent object keeps its function in .fun: swap the body, keep the agent (and its topic).
    getattr(module, agent).fun = body


def _counts_by_reading_id_apply() -> None:
    from solutions.phase3 import counting as module

    async def count(stream: Any) -> AsyncIterator[tuple[str, int]]:
        async for reading in stream:
            # The mistake: the wrong key, so every reading starts a count of its own.
            module.sensor_counts[reading.reading_id] += 1
            yield reading.sensor_id, module.sensor_counts[reading.reading_id]

    _rebind(module, count)


def _counts_in_the_dict_only() -> None:
    from solutions.phase3 import counting as module

    async def count(stream: Any) -> AsyncIterator[tuple[str, int]]:
        async for reading in stream:
            # The mistake: the dict behind the table, so nothing reaches the changelog.
            module.sensor_counts.data[reading.sensor_id] = (
                module.sensor_counts.data.get(reading.sensor_id, 0) + 1
            )
            yield reading.sensor_id, module.sensor_counts.data[reading.sensor_id]

    _rebind(module, count)


def _repartition_topic_renamed() -> None:
    from app.models import EnrichedReading
    from solutions.phase3 import status_counts as module

    async def count(stream: Any) -> AsyncIterator[tuple[str, int]]:
        by_status: Any = EnrichedReading.status
        # The mistake: another name, so another repartition topic than the README fixes.
        async for reading in stream.group_by(by_status, name="by-status"):
            module.status_counts[reading.status] += 1
            yield reading.status, module.status_counts[reading.status]

    _rebind(module, count, agent="count_by_status")


def _timer_returns_every_busy_sensor() -> None:
    from app.config import settings
    from solutions.phase3 import counting
    from solutions.phase3 import threshold as module

    async def log_busy_sensors() -> list[str]:
        await original()  # logs the new crossings, once each
        threshold = settings.count_alert_threshold
        # The mistake: returns every sensor above the threshold, not only the newly logged ones.
        return sorted(s for s, n in counting.sensor_counts.items() if n > threshold)

    original = inspect.unwrap(module.log_busy_sensors)
    replace(module, "log_busy_sensors", log_busy_sensors)


MUTANTS = [
    Mutant(
        name="count-by-wrong-key",
        task="3.1",
        description="counts per reading_id instead of per sensor_id",
        apply=_counts_by_reading_id_apply,
        caught_by=(
            "test_counting.py::test_counts_after_a_sequence_of_readings",
            "test_counting.py::test_the_table_equals_a_counter_of_sensor_ids",
        ),
    ),
    Mutant(
        name="count-before-validation",
        task="3.1",
        description="counts raw sensor-readings, so dead letters are counted too",
        apply=_counts_raw_readings,
        caught_by=("test_counting.py::test_the_agent_counts_enriched_readings_only",),
    ),
    Mutant(
        name="count-in-the-dict-only",
        task="3.1",
        description="writes sensor_counts.data[...]: the dict changes, the changelog never does",
        apply=_counts_in_the_dict_only,
        caught_by=("test_counting.py::test_every_change_is_written_to_the_changelog",),
    ),
    Mutant(
        name="repartition-topic-renamed",
        task="3.2",
        description='group_by(..., name="by-status"): not the repartition topic the README fixes',
        apply=_repartition_topic_renamed,
        caught_by=("test_status_counts.py::test_the_repartition_topic_is_named_status",),
    ),
    Mutant(
        name="status-count-without-repartition",
        task="3.2",
        description="counts per status where the events arrive, without group_by",
        apply=_no_repartition,
        caught_by=("test_status_counts.py::test_every_reading_is_repartitioned_by_its_status",),
    ),
    Mutant(
        name="timer-logs-everyone",
        task="3.3",
        description="the timer logs every sensor, not only those above the threshold",
        apply=_timer_logs_everyone,
        caught_by=(
            "test_threshold.py::test_one_tick_logs_exactly_the_sensors_above_the_threshold",
        ),
    ),
    Mutant(
        name="timer-logs-a-crossing-every-tick",
        task="3.3",
        description="a sensor above the threshold is logged again on every tick",
        apply=_crossing_logged_every_tick,
        caught_by=("test_threshold.py::test_a_crossing_is_logged_once_not_every_tick",),
    ),
    Mutant(
        name="timer-returns-every-busy-sensor",
        task="3.3",
        description="logs each crossing once but returns every sensor above the threshold",
        apply=_timer_returns_every_busy_sensor,
        caught_by=("test_threshold.py::test_each_tick_returns_only_the_sensors_it_logged",),
    ),
    Mutant(
        name="start-up-hook-counts-readings-as-sensors",
        task="3.4",
        description="the hook and the report give the number of readings as the number of sensors",
        apply=_hook_counts_readings_as_sensors,
        caught_by=(
            "test_lifecycle.py::test_the_start_up_hook_logs_what_was_recovered",
            "test_lifecycle.py::test_the_crontab_reports_sensors_and_readings",
        ),
    ),
]
