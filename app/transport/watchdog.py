"""A liveness watchdog for the exactly_once worker (provided; read it).

For what is left unknown: the worker halts with one log line when a commit has not finished for
COMMIT_TIMEOUT_S, when a rebalance has not ended for as long, or when a partition holds
acknowledged records whose committed offset has not moved for as long (the line says where:
committed offset, last read, acknowledged range, gaps). A restarted worker aborts the open
transactions and resumes from the last commit, so a halt costs time, never exactness; a
supervisor restarts it. The crash test counts a halt as a failure under exactly_once.

It also audits every commit made with the streams drained (race 1): no acknowledged record may
be left out of it. One left out is a bug in the books, not a crash: the worker says so in one
warning (``LEFT_BEHIND``) and goes on (the next commit takes it), and the crash test fails on it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from faust.types import TP

from app.halt import halt
from app.transport import private

if TYPE_CHECKING:
    from faust.transport.consumer import Consumer

COMMIT_TIMEOUT_S = 60.0  # no commit finished for this long (a rebalance included): stuck, halt
STUCK_COMMIT = "commit did not finish within"  # the start of the halt line (tests look for it)
# The start of the warning when a drained commit left acknowledged records out (tests look for it).
LEFT_BEHIND = "a commit left acknowledged records uncommitted"


class Watchdog:
    """Remembers when commits finished, and halts the worker when they stopped."""

    def __init__(self) -> None:
        self.last_commit = time.monotonic()  # when the last commit finished
        self.unready_since: float | None = time.monotonic()  # a rebalance is under way
        self._waiting: dict[TP, tuple[int | None, float]] = {}  # partition -> (committed, since)

    def committed(self) -> None:
        self.last_commit = time.monotonic()

    def check(self, consumer: Consumer, rebalancing: bool) -> None:
        """Halt the worker when its commits stopped moving for COMMIT_TIMEOUT_S."""
        now = time.monotonic()
        if now - self.last_commit > COMMIT_TIMEOUT_S:
            halt(
                f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: no commit finished, the worker is stuck; "
                "a restarted worker aborts the open transactions and resumes from the last commit"
            )
        if not rebalancing:
            self.unready_since = None
        elif self.unready_since is None:
            self.unready_since = now
        elif now - self.unready_since > COMMIT_TIMEOUT_S:
            halt(
                f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: the rebalance has not ended, the worker "
                "is stuck; a restarted worker resumes from the last commit"
            )
        stuck = self.stuck_partitions(consumer)
        if stuck:
            halt(
                f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: acknowledged events are not committed "
                f"({'; '.join(stuck)}); a restarted worker resumes from the last commit"
            )

    def left_behind(self, consumer: Consumer) -> list[str]:
        """After a commit made with every delivered record acknowledged: the partitions whose
        acknowledged records it did not commit. Their outputs are in the transaction it just
        committed, their offsets are not: a hole in Faust's books (races 9 and 10 were), and a
        crash now would process them again. Empty when all is well."""
        holding = [tp for tp, acked in list(private.acked_offsets(consumer).items()) if acked]
        if not holding:
            return []  # the usual answer, without asking the consumer thread for its assignment
        assigned = consumer.assignment()
        return [describe(consumer, tp) for tp in holding if tp in assigned]

    def stuck_partitions(self, consumer: Consumer) -> list[str]:
        """Partitions with acknowledged events whose committed offset has not moved for long."""
        now = time.monotonic()
        stuck: list[str] = []
        assigned = consumer.assignment()  # late acks of revoked partitions linger: not ours
        committed_offsets = private.committed_offsets(consumer)
        for tp, acked in list(private.acked_offsets(consumer).items()):
            committed = committed_offsets.get(tp)
            if not acked or tp not in assigned:
                self._waiting.pop(tp, None)
                continue
            since = self._waiting.get(tp)
            if since is None or since[0] != committed:
                self._waiting[tp] = (committed, now)
            elif now - since[1] > COMMIT_TIMEOUT_S:
                stuck.append(describe(consumer, tp))
        return stuck


def describe(consumer: Consumer, tp: TP) -> str:
    acked = sorted(private.acked_offsets(consumer).get(tp) or ())
    unacked = sorted(m.offset for m in list(consumer.unacked) if m.tp == tp)
    return (
        f"{tp.topic}[{tp.partition}] committed {private.committed_offsets(consumer).get(tp)}, "
        f"last read {private.read_offsets(consumer).get(tp)}, "
        f"acknowledged {len(acked)} ({acked[:3]}..{acked[-1:]}), "
        f"gaps {private.gaps(consumer, tp)[:5]}, unacknowledged {unacked[:5]}"
    )
