"""The Faust internals the dashboard reads, named in one place.

Faust has no public accessor for the offsets a consumer has committed: ``Consumer.commit()``
keeps them in ``_committed_offset`` (filled at start-up from the broker, then at every commit,
in both guarantees). ``Monitor.tp_committed_offsets`` is public but stays empty until this
worker's first commit, so a restarted idle worker would show no lag at all.
tests/test_dashboard.py::test_the_private_state_the_dashboard_reads_still_exists fails when an
upgrade renames it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from faust.types import TP

COMMITTED_OFFSETS_ATTRIBUTE = "_committed_offset"  # faust.transport.consumer.Consumer


def committed_offsets(consumer: Any, partitions: Iterable[TP]) -> dict[TP, int | None]:
    """The offset this worker last committed (or found committed) for each partition."""
    committed: Mapping[TP, int | None] = getattr(consumer, COMMITTED_OFFSETS_ATTRIBUTE)
    # .get, not [...]: the mapping is a defaultdict and must not grow entries on our account.
    return {tp: committed.get(tp) for tp in partitions}
