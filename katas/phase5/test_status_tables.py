"""Task 5.2: the dead-letter and latest-window tables, through Faust's test context.

The tables are the real ones (module level), emptied before and after each test by the
``faust_app`` fixture.
"""

from __future__ import annotations

import faust
from hypothesis import given
from hypothesis import strategies as st

from app.config import ErrorCode
from app.models import DeadLetter, WindowAggregate
from kata_engine.testing import run_agent
from katas.phase5.status_tables import (
    add_dead_letter,
    count_dead_letters,
    dead_letter_counts,
    latest_windows,
    newer_window,
    track_latest_windows,
)

CODES = [code.value for code in ErrorCode]


def dead_letter(code: str, offset: int = 0) -> DeadLetter:
    return DeadLetter(
        error_code=code,
        reason=f"a {code} reading",
        payload_base64="e30=",
        key_base64=None,
        source_topic="sensor-readings",
        source_partition=0,
        source_offset=offset,
        failed_at=1_700_000_000.0,
    )


def window(sensor: str, start: float, count: int = 3) -> WindowAggregate:
    return WindowAggregate(
        sensor_id=sensor,
        window_start=start,
        window_end=start + 60.0,
        count=count,
        min_temperature=20.0,
        max_temperature=22.0,
        avg_temperature=21.0,
    )


@given(st.dictionaries(st.sampled_from(CODES), st.integers(0, 1000)), st.sampled_from(CODES))
def test_add_dead_letter_counts_one_more_and_leaves_its_input_alone(
    counts: dict[str, int], code: str
) -> None:
    before = dict(counts)
    after = add_dead_letter(counts, code)
    expected = {**before, code: before.get(code, 0) + 1}
    assert after == expected, f"add_dead_letter({before}, {code!r}) = {after}; expected {expected}"
    assert counts == before, (
        f"add_dead_letter changed its input to {counts}: build a new dict (a table notices only "
        "a value assigned back)"
    )


def test_newer_window_keeps_the_later_start_whatever_the_arrival_order() -> None:
    early, late = window("s", 60.0), window("s", 120.0)
    cases = [(None, early, early), (early, late, late), (late, early, late), (late, late, late)]
    for current, candidate, expected in cases:
        chosen = newer_window(current, candidate)
        assert chosen == expected, (
            f"newer_window({current}, {candidate}) chose the window at {chosen.window_start}; "
            f"expected the one at {expected.window_start} (the later start)"
        )


async def test_dead_letters_are_counted_per_partition_and_code(faust_app: faust.App) -> None:
    puts = [
        ("not_json", 0),
        ("not_json", 0),
        ("late_event", 1),
        ("not_json", 2),
        ("empty_payload", 0),
    ]
    async with run_agent(count_dead_letters) as run:
        for offset, (code, partition) in enumerate(puts):
            await run.put(dead_letter(code, offset), key=b"sensor-001", partition=partition)
    table = dict(dead_letter_counts.items())
    expected = {
        "0": {"not_json": 2, "empty_payload": 1},
        "1": {"late_event": 1},
        "2": {"not_json": 1},
    }
    assert table == expected, (
        f"after dead letters {puts} (code, partition) the table holds {table}; expected "
        f"{expected}: keyed by the partition as text, then by error code"
    )
    yielded = run.results
    want = [
        ("not_json", 1),
        ("not_json", 2),
        ("late_event", 1),
        ("not_json", 1),
        ("empty_payload", 1),
    ]
    assert yielded == want, (
        f"the agent yielded {yielded}; expected (error_code, its new count in that partition) "
        f"per dead letter: {want}"
    )


async def test_each_sensor_keeps_its_latest_window(faust_app: faust.App) -> None:
    arrivals = [window("a", 60.0), window("b", 60.0), window("a", 180.0), window("a", 120.0)]
    async with run_agent(track_latest_windows) as run:
        for aggregate in arrivals:
            await run.put(aggregate, key=aggregate.sensor_id)
    starts = {sensor: w.window_start for sensor, w in latest_windows.items() if w is not None}
    assert starts == {"a": 180.0, "b": 60.0}, (
        f"after windows of a at 60, b at 60, a at 180, a at 120 the latest starts are {starts}; "
        "expected {'a': 180.0, 'b': 60.0}: an older window arriving late does not replace a newer"
    )
    yielded = [w.window_start for w in run.results]
    assert yielded == [60.0, 60.0, 180.0, 180.0], (
        f"the agent yielded windows starting at {yielded}; expected what it stored per event: "
        "[60.0, 60.0, 180.0, 180.0]"
    )
