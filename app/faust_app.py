"""The Faust app and its topics, built from app.config (provided; read it, don't edit it).

Phase modules import from here::

    from app.faust_app import app, topics

and register their agents, tables and pages on ``app``.
"""

from __future__ import annotations

from typing import Any

import faust

from app.broker_auth import broker_credentials
from app.config import Settings, settings
from app.models import DeadLetter, EnrichedReading, WindowAggregate, WindowTick
from app.topic import PipelineTopic
from app.transport import transport_url

# Measured with tests/benchmarks/bench_throughput.py (README, "Performance"). None of them changes
# what is written or when an offset is committed; they change how records travel.
THROUGHPUT: dict[str, Any] = {
    # No producer_linger: the enrichment agent waits for each delivery before it takes the next
    # event (phase 2, "nothing vanishes"), so a linger of L caps it at 1/L events per second
    # (10 ms gave 78 events/s). Linger pays only where sends are not awaited one by one.
    "producer_max_batch_size": 512 * 1024,  # bytes per partition batch (default 16 KiB)
    # Prefetch more per stream (default 4096) and fetch in bounded polls, so the agent finds its
    # next event already decoded in the buffer instead of waiting on a fetch.
    "stream_buffer_maxsize": 16_384,
    "broker_max_poll_records": 2_000,
    # Sends reach the producer without three event-loop trips each (app/topic.py), so a batch's
    # records leave in a few produce requests instead of one request per record.
    "Topic": PipelineTopic,
}


def create_app(config: Settings = settings) -> faust.App:
    """Build the Faust app: broker, guarantee and web server all come from ``config``."""
    return faust.App(
        config.app_id,
        # Faust's aiokafka driver with its races fixed, under either guarantee (app/transport).
        broker=transport_url(config.broker_url),
        store="memory://",  # tables live in memory; their changelog topics make them durable
        processing_guarantee=config.processing_guarantee,
        topic_partitions=config.topic_partitions,
        # Every topic Faust creates (ours, the tables' changelogs, repartition topics, the
        # assignor's) gets this many copies: 1 on one broker, 3 on a three-node cluster.
        topic_replication_factor=config.replication_factor,
        # acks=all: a write counts once every in-sync replica has it (at least the broker's
        # min.insync.replicas); Faust's default, stated because losing a node relies on it.
        producer_acks=-1,
        broker_credentials=broker_credentials(config),  # TLS/SASL for an existing cluster
        web_bind=config.web_bind,  # 127.0.0.1 by default: Faust's own default is all interfaces
        web_port=config.web_port,
        value_serializer="json",
        # Under exactly_once also the transaction commit: how soon read_committed readers see
        # an output (README, "Performance": the commit-interval curve).
        broker_commit_interval=config.commit_interval_s,
        autodiscover=False,  # app.main imports the phase modules explicitly
        **(THROUGHPUT if config.faust_tuning else {}),
    )


class PipelineTopics:
    """The four topics of the pipeline, declared once on one app."""

    def __init__(self, app: faust.App, config: Settings = settings) -> None:
        names = config.topics

        def owned(name: str, key_type: type, value_type: type, **options: Any) -> faust.TopicT:
            # internal=True: the app owns the topic, so Faust itself creates a topic it consumes,
            # with topic_partitions partitions, before subscribing (not the broker, with its own
            # default). Keys are plain bytes/text on the wire ("raw"), values JSON unless stated.
            return app.topic(
                name,
                key_type=key_type,
                value_type=value_type,
                key_serializer="raw",
                internal=True,
                partitions=config.topic_partitions,
                **options,
            )

        # Raw bytes on purpose: the enrichment agent must see malformed events to dead-letter them.
        # If Faust decoded them, a bad event would fail inside Faust and never reach our code.
        self.readings = owned(names.readings, bytes, bytes, value_serializer="raw")
        self.enriched = owned(names.enriched, str, EnrichedReading)
        self.dead_letter = owned(names.dead_letter, bytes, DeadLetter)
        self.window_aggregates = owned(names.window_aggregates, str, WindowAggregate)
        # Phase 4's heartbeat: the app both sends and consumes it, partition by partition, like
        # enriched-readings (same partition count), so closing an idle window is an ordinary event.
        self.window_ticks = owned(f"{config.topic_prefix}window-ticks", str, WindowTick)

    def all(self) -> tuple[faust.TopicT, ...]:
        """Every topic of the pipeline."""
        return (self.readings, self.enriched, self.dead_letter, self.window_aggregates)


app = create_app()
topics = PipelineTopics(app)


async def declare_topics() -> None:
    """Create the pipeline's topics with ``topic_partitions`` partitions when a worker starts.

    Faust creates only the topics it owns (changelogs); a topic an agent merely sends to would be
    auto-created by the broker with its own default partition count, and tables in later phases
    need their source topics partitioned like their changelogs.
    """
    for topic in topics.all():
        await topic.maybe_declare()


app.task(declare_topics)  # runs once in every worker, at start-up
