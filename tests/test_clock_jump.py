"""Issue 23's experiment, small, on a real broker: a sensor's clock jumps to 2100, and no on-time
reading of any sensor is lost to the windows (tests/benchmarks/bench_clock_jump.py at full size)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmarks.bench_clock_jump import run_experiment


@pytest.mark.kafka
def test_a_clock_jumping_to_2100_costs_no_on_time_reading(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    outcome = run_experiment(kafka_bootstrap, tmp_path, per_phase=50, jump="2100", jumping=5)
    print("\n" + outcome.table())
    assert outcome.clock_dead_letters == outcome.jumped == 5, (
        f"5 readings dated 2100-01-01 gave {outcome.clock_dead_letters} clock dead letters; "
        "expected each one as timestamp_in_future (phase 2's validation)"
    )
    assert outcome.lost_on_time == 0 and outcome.late_dead_letters == 0, (
        f"after the jump, {outcome.lost_on_time} on-time readings were in no window and "
        f"{outcome.late_dead_letters} were dead-lettered late; expected 0 and 0:\n{outcome.table()}"
    )
    assert outcome.duplicated_windows == 0 and outcome.counted_jumped == 0, (
        f"windows emitted twice: {outcome.duplicated_windows}, jumped readings counted in "
        f"windows: {outcome.counted_jumped}; expected 0 and 0"
    )


@pytest.mark.kafka
def test_a_clock_running_ahead_within_the_bounds_costs_its_neighbours_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # 240 s ahead: inside KATA_MAX_CLOCK_SKEW (300 s), so validation lets it through.
    outcome = run_experiment(kafka_bootstrap, tmp_path, per_phase=50, jump="ahead", jumping=1)
    print("\n" + outcome.table())
    assert outcome.clock_dead_letters == 0, (
        f"a reading 240 s ahead gave {outcome.clock_dead_letters} clock dead letters; expected "
        "0: it is within max_clock_skew (300 s)"
    )
    assert outcome.lost_of_others == 0 and outcome.duplicated_windows == 0, (
        f"one sensor's clock ran 240 s ahead and {outcome.lost_of_others} on-time readings of "
        f"the OTHER sensors were in no window (windows emitted twice: "
        f"{outcome.duplicated_windows}); expected 0: one clock closes only its own sensor's "
        f"windows\n{outcome.table()}"
    )
