"""``uv run kata crash``: YOUR pipeline (phases 2-5) under stress and SIGKILL, then a verdict.

Phase 5's lesson is that exactly_once survives a crash. This runs your code (the reference
solutions only with ``kata --solutions crash``), on a broker from the chain (as ``kata demo``),
with topics of its own that are deleted at the end, in two stages:

1. The window agents meet (at_least_once, no kill). Per partition, bursts of readings, each a
   new window for each of the partition's sensors (last sensor first); every burst is sent as
   soon as the previous burst's first aggregate appears, that is while a tick is closing that
   partition's windows, one sensor and one broker round trip after another. (Under
   exactly_once the ticks and the readings become visible together at each commit and rarely
   meet: that is why this stage runs at_least_once.) Without ``partition_lock`` a reading
   folded across the close's await is lost when the close writes its stale state back.
2. SIGKILLs (exactly_once). A feeder sends readings the whole time (some malformed) while the
   worker is killed three times (``early``: just after it is ready; ``after-commit``: right
   after the group's committed offsets moved; ``mid-interval``: half a commit interval
   later), restarted each time; the last one finishes the stream.

In both, each partition has its own sensors and its own event-time line, a day apart from the
next partition's, always in order: a per-partition horizon finds a reading late only in a
window its own partition had already reached. Every output topic is read read_committed and
compared with the truth from the input. What it checks, each failure naming its task:

- every reading ends as exactly one enriched reading or dead letter (tasks 2.4, 5.1);
- no output twice (5.1: exactly_once);
- every window emitted once, with exactly the readings it holds (4.5: the lock; closing);
- no reading dead-lettered late before its own partition reached its window (4.5: one
  horizon per partition);
- /status/ counts every reading exactly once, after the kills (3.1, 5.3).
"""

from kata_engine.crash.run import CrashError, crash
from kata_engine.crash.verdict import Verdict, meeting_line, table

__all__ = ["CrashError", "Verdict", "crash", "meeting_line", "table"]
