"""Mutants of phase 4: plausible wrong windowing the phase 4 tests must catch."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from tests.mutants import Mutant, replace


def _end_inside_the_window() -> None:
    from solutions.phase4 import windows as module

    def window_for(timestamp: float, size: float = 60.0) -> Any:
        # The mistake: (start, end] instead of [start, end): a reading at the end stays behind.
        index = math.ceil(timestamp / size) - 1
        return module.Window(index * size, (index + 1) * size)

    replace(module, "window_for", window_for)


def _average_of_averages() -> None:
    from solutions.phase4 import aggregation as module

    def add_reading(stats: Any, window: Any, temperature: float) -> Any:
        updated = original(stats, window, temperature)
        if stats is not None:
            # The mistake: the new average is the mean of the old average and the new value.
            average = (stats.total / stats.count + temperature) / 2
            updated.total = average * updated.count
        return updated

    original = module.add_reading
    replace(module, "add_reading", add_reading)


def _wall_clock_horizon() -> None:
    from solutions.phase4 import emission as module

    def advance_horizon(horizon: float, timestamp: float, grace: float) -> float:
        return max(horizon, time.time() - grace)  # the mistake: processing time, not event time

    replace(module, "advance_horizon", advance_horizon)


def _closed_windows_stay_open() -> None:
    from solutions.phase4 import emission as module

    def split_closed(windows: Iterable[Any], horizon: float) -> tuple[list[Any], list[Any]]:
        ordered = sorted(windows, key=lambda stats: stats.start)
        closed = [stats for stats in ordered if stats.end <= horizon]
        return closed, ordered  # the mistake: emitted, but never removed: emitted again later

    replace(module, "split_closed", split_closed)


def _late_reading_reopens_its_window() -> None:
    from solutions.phase4 import late_events as module

    # The mistake (Faust's default): a reading for a closed window re-creates the window.
    replace(module, "is_late", lambda window, horizon: False)


def _first_partition_only() -> None:
    from app.faust_app import topics
    from solutions.phase4 import aggregation, emission
    from solutions.phase4 import windowing as module

    first_partition: dict[float, int] = {}

    async def close_windows(partition: int, clock: Any) -> list[Any]:
        sent = []
        for sensor, state in module.states_of(partition):
            closed, still_open = emission.split_closed(state.windows, clock.horizon_of(sensor))
            if not closed:
                continue
            for stats in closed:
                # The mistake (Faust's on_window_close): only the first partition to close a
                # window start gets the callback; the others' windows are deleted silently.
                if first_partition.setdefault(stats.start, partition) != partition:
                    continue
                aggregate = aggregation.to_aggregate(sensor, stats)
                await topics.window_aggregates.send(key=sensor, value=aggregate)
                sent.append(aggregate)
            if still_open:
                module.window_state[sensor] = module.SensorWindows(
                    partition=partition, windows=still_open
                )
            else:
                del module.window_state[sensor]
        return sent

    replace(module, "close_windows", close_windows)


def _late_reading_dropped() -> None:
    from app.config import settings
    from solutions.phase4 import late_events, windows
    from solutions.phase4 import windowing as module

    async def on_reading(event: Any) -> list[Any]:
        window: Any = windows.window_for(event.value.timestamp, settings.window_size)
        clock = module.clock_of(event.message.partition)
        replay = event.message.offset <= clock.offset
        if not replay and late_events.is_late(window, clock.horizon_of(event.value.sensor_id)):
            return []  # the mistake: a late reading is skipped, silently
        return await original(event)

    original = module.on_reading
    replace(module, "on_reading", on_reading)


def _floor_without_correction() -> None:
    from solutions.phase4 import windows as module

    def window_for(timestamp: float, size: float = 60.0) -> Any:
        # The mistake the docstring warns about: floor(ts / size) alone, no float correction.
        start = math.floor(timestamp / size) * size
        return module.Window(start, start + size)

    replace(module, "window_for", window_for)


def _open_windows_unsorted() -> None:
    from solutions.phase4 import emission as module

    def split_closed(windows: Iterable[Any], horizon: float) -> tuple[list[Any], list[Any]]:
        given = list(windows)
        closed = sorted((s for s in given if s.end <= horizon), key=lambda s: s.start)
        return closed, [s for s in given if s.end > horizon]  # the mistake: open ones unsorted

    replace(module, "split_closed", split_closed)


def _consensus_of_one() -> None:
    from solutions.phase4 import emission as module

    def consensus_horizon(horizons: Iterable[float], quorum: int) -> float:
        # The mistake (the partition horizon before issue 23): the furthest sensor decides.
        return max(horizons, default=0.0)

    replace(module, "consensus_horizon", consensus_horizon)


class _OneKey:
    """A table seen through one key: every partition reads and writes the same entry."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.get("all", default)

    def __getitem__(self, key: str) -> Any:
        return self.table["all"]

    def __setitem__(self, key: str, value: Any) -> None:
        self.table["all"] = value

    def items(self) -> Any:
        return self.table.items()


def _one_global_clock() -> None:
    from solutions.phase4 import windowing as module

    # The mistake: one horizon (and offset) for every partition, e.g. window_horizon["horizon"].
    replace(module, "window_horizon", _OneKey(module.window_horizon))


def _aggregates_without_partition() -> None:
    from app.faust_app import topics
    from solutions.phase4 import windowing as module

    class Unpartitioned:
        """topics.window_aggregates with its partition= argument dropped."""

        def __getattr__(self, name: str) -> Any:
            return getattr(topics.window_aggregates, name)

        async def send(self, *, partition: int | None = None, **kwargs: Any) -> Any:
            return await topics.window_aggregates.send(**kwargs)  # the mistake: no partition=

    class Topics:
        def __getattr__(self, name: str) -> Any:
            if name == "window_aggregates":
                return Unpartitioned()
            return getattr(topics, name)

    replace(module, "topics", Topics())


def _without_partition_lock() -> None:
    import contextlib

    from solutions.phase4 import windowing as module

    # The mistake: no lock, so a tick's close and a reading interleave across the broker's wait.
    replace(module, "partition_lock", lambda partition: contextlib.nullcontext())


def _replay_counted_as_late() -> None:
    from solutions.phase4 import windowing as module

    def clock_of(partition: int) -> Any:
        clock = original(partition)
        # The mistake: no memory of the offsets taken in; a re-delivered reading is new again.
        return module.PartitionClock(sensors=clock.sensors, consensus=clock.consensus, offset=-1)

    original = module.clock_of
    replace(module, "clock_of", clock_of)


MUTANTS = [
    Mutant(
        name="window-end-inclusive",
        task="4.1",
        description="windows are (start, end]: a reading exactly at a boundary stays behind",
        apply=_end_inside_the_window,
        caught_by=("test_windows.py::test_the_start_is_inside_and_the_end_is_not",),
    ),
    Mutant(
        name="window-floor-without-correction",
        task="4.1",
        description="math.floor(ts / size) * size: at size 0.1 a window can start after its ts",
        apply=_floor_without_correction,
        caught_by=(
            "test_windows.py::test_a_size_binary_floats_cannot_hold_still_gives_each_timestamp",
        ),
    ),
    Mutant(
        name="window-average-of-averages",
        task="4.2",
        description="the running average is the mean of the old average and the new value",
        apply=_average_of_averages,
        caught_by=(
            "test_aggregation.py::test_three_readings_give_exact_statistics",
            "test_aggregation.py::test_any_readings_fold_to_the_brute_force_statistics",
        ),
    ),
    Mutant(
        name="window-wall-clock-horizon",
        task="4.3",
        description="windows close on the wall clock instead of the readings' event time",
        apply=_wall_clock_horizon,
        caught_by=(
            "test_emission.py::test_the_horizon_follows_event_time_minus_grace",
            "test_windowing.py::test_event_time_decides_not_the_wall_clock",
        ),
    ),
    Mutant(
        name="window-duplicate-emission",
        task="4.3",
        description="a closed window is emitted but kept open, so it is emitted again",
        apply=_closed_windows_stay_open,
        caught_by=(
            "test_emission.py::test_every_window_is_closed_or_open_never_both",
            "test_windowing.py::test_a_window_closes_with_no_later_event_once_the_partition",
        ),
    ),
    Mutant(
        name="window-open-windows-unsorted",
        task="4.3",
        description="split_closed sorts the closed windows but not the still-open ones",
        apply=_open_windows_unsorted,
        caught_by=("test_emission.py::test_both_lists_come_out_in_start_order_whatever_the",),
    ),
    Mutant(
        name="window-one-sensor-pushes-the-horizon",
        task="4.3",
        description="the consensus is the furthest sensor: one clock ahead closes every window",
        apply=_consensus_of_one,
        caught_by=(
            "test_emission.py::test_the_consensus_is_what_a_quorum_of_sensors_reached",
            "test_emission.py::test_one_sensor_jumping_ahead_never_moves_a_consensus",
            "test_windowing.py::test_one_sensor_running_ahead_does_not_make_its_neighbours_late",
            "test_windowing.py::test_a_jumping_clock_never_costs_another_sensor_a_reading",
        ),
    ),
    Mutant(
        name="window-late-reading-reopens",
        task="4.4",
        description="a reading for a closed window re-opens it (Faust's default)",
        apply=_late_reading_reopens_its_window,
        caught_by=(
            "test_late_events.py::test_a_window_is_late_once_the_horizon_reached_its_end",
            "test_windowing.py::test_a_late_reading_is_dead_lettered_and_the_window_not_re",
        ),
    ),
    Mutant(
        name="window-first-partition-only",
        task="4.5",
        description="only the first partition to close a window start emits it (Faust's bug)",
        apply=_first_partition_only,
        caught_by=("test_windowing.py::test_no_window_is_lost_on_any_partition",),
    ),
    Mutant(
        name="window-late-reading-dropped",
        task="4.5",
        description="a late reading is skipped silently instead of dead-lettered",
        apply=_late_reading_dropped,
        caught_by=(
            "test_windowing.py::test_a_late_reading_is_dead_lettered_and_the_window_not_re",
            "test_windowing.py::test_any_order_every_reading_is_in_one_aggregate_or_one_late",
        ),
    ),
    Mutant(
        name="window-one-global-clock",
        task="4.5",
        description="one horizon and offset for every partition instead of one per partition",
        apply=_one_global_clock,
        caught_by=("test_windowing.py::test_a_jumping_clock_never_costs_another_sensor_a_reading",),
    ),
    Mutant(
        name="window-aggregates-without-partition",
        task="4.5",
        description="aggregates sent without partition=: they land where the key hashes",
        apply=_aggregates_without_partition,
        caught_by=("test_windowing.py::test_aggregates_and_late_dead_letters_stay_in_the_readin",),
    ),
    Mutant(
        name="window-without-partition-lock",
        task="4.5",
        description="no partition_lock: a reading folded while a tick closes is lost",
        apply=_without_partition_lock,
        caught_by=("test_windowing.py::test_a_reading_that_arrives_while_a_tick_closes_windows",),
    ),
    Mutant(
        name="window-replay-counted-as-late",
        task="4.5",
        description="a re-delivered offset is taken as a new reading: late, or folded twice",
        apply=_replay_counted_as_late,
        caught_by=(
            "test_windowing.py::test_a_replayed_reading_is_a_replay_not_a_late_event",
            "test_windowing.py::test_replayed_offsets_change_nothing_and_are_counted",
        ),
    ),
]
