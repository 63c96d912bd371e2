"""`kata crash` on the reference solutions: both stages pass (the learner's crash test is sound).

The same command catches a missing ``partition_lock`` and a global window horizon in a
learner's phase 4 (katas/phase5/README.md shows what it printed on such copies); here it must
find nothing wrong with the reference pipeline. Figures printed with ``-s``.
"""

from __future__ import annotations

import pytest

from kata_engine.crash import crash, meeting_line, table

pytestmark = pytest.mark.kafka

READINGS = 3000  # fewer than the command's default: the same three kills, a shorter stream


def test_kata_crash_finds_nothing_wrong_with_the_reference_pipeline(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)  # the chain uses this broker
    meeting, killed = crash(solutions=True, readings=READINGS, say=print)
    print("\n" + meeting_line(meeting) + "\n" + "\n".join(table(killed)))
    failures = meeting.failures() + killed.failures()
    assert not failures, "kata crash on the reference solutions failed:\n" + "\n".join(failures)
    assert killed.kills and all(kill.fed > 0 for kill in killed.kills), (
        f"the kills happened before any reading was fed: {killed.kills}"
    )
