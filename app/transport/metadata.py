"""A topic just created is known to every broker before the worker goes on (provided; read it).

Faust creates its changelog and repartition topics at start-up and goes on when the controller
says "created". In a cluster of several brokers each broker learns of a new topic a moment
later, and a metadata request answered by one that has not yet says the topic does not exist.
aiokafka's consumer keeps that answer until its next metadata refresh (minutes): Faust's table
check stopped a table's agent ("PartitionsMismatch: ... the changelog topic ... has 0
partitions"), and the group's assignment left the changelog out, so its first write crashed the
next worker (``KeyError`` in ``group_for_topic``). Seen twice in eleven runs of
tests/test_cluster_faults.py's scaling test, right after the cluster formed.

So after Faust creates a topic, the producer asks every broker until each one knows it, at most
KNOWN_TIMEOUT_S (then it warns and goes on, as Faust would have). A broker that does not answer
within ASK_TIMEOUT_S is left out: one that is down answers nobody (the cluster tests restart
workers while a broker is killed or stopped).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest

logger = logging.getLogger(__name__)

KNOWN_TIMEOUT_S = 15.0  # brokers learn of a topic within milliseconds; a slow one in seconds
ASK_TIMEOUT_S = 1.0  # a broker that has not answered by then is down or stopped: left out
POLL_S = 0.1


async def known_to_every_broker(client: Any, topic: str, timeout: float = KNOWN_TIMEOUT_S) -> bool:
    """Wait until every broker ``client`` knows lists ``topic`` with its partitions."""
    deadline = time.monotonic() + timeout
    while True:
        brokers = sorted(broker.nodeId for broker in client.cluster.brokers())
        unaware = [node for node in brokers if await knows(client, node, topic) is False]
        if not unaware:
            return True
        if time.monotonic() > deadline:
            logger.warning(
                "topic %s: brokers %s do not know it %g s after it was created; going on",
                topic,
                unaware,
                timeout,
            )
            return False
        await asyncio.sleep(POLL_S)


async def knows(client: Any, node_id: int, topic: str) -> bool | None:
    """Does broker ``node_id`` list ``topic`` with partitions? None: it did not answer."""
    request = MetadataRequest([topic], False)
    try:
        response = await asyncio.wait_for(client.send(node_id, request), ASK_TIMEOUT_S)
    except (KafkaError, OSError, TimeoutError):
        return None
    # Each entry: (error code, topic, ..., partitions); the partitions come last in every version.
    return any(
        entry[0] == 0 and entry[1] == topic and len(entry[-1]) > 0 for entry in response.topics
    )
