"""The transport is wired in before anything runs, its private names exist, its versions hold.

- The pipeline's app (app/faust_app.py ``create_app``) builds this project's transport, consumer
  and producer from the broker URL alone, so every fix is in force from the moment the consumer
  exists, before the first recovery (no hook installed later by a task).
- Every private name of faust-streaming and aiokafka that app/transport/private.py reads exists on
  the installed (pinned) versions.
- The version guard refuses exactly_once on other versions, with one line, and warns under
  at_least_once.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaProducer
from faust import transport as faust_transport
from faust.transport.drivers import aiokafka as faust_aiokafka
from packaging.requirements import Requirement

from app.config import Settings
from app.faust_app import create_app
from app.transport import SCHEME, drivers, private, transport_url
from app.transport.versions import PINNED, check_versions, installed_versions, mismatch

OVERRIDES: dict[type, tuple[str, ...]] = {
    drivers.Consumer: (
        "force_commit",
        "seek_to_committed",
        "seek",
        "on_partitions_revoked",
        "_add_gap",
    ),
    drivers.Producer: ("commit_transactions", "__post_init__"),
}


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
async def test_the_pipeline_app_runs_on_this_transport_before_its_first_recovery(
    guarantee: str,
) -> None:
    app = create_app(Settings(app_id=f"wiring-{guarantee}", processing_guarantee=guarantee))
    # Nothing has started: no worker, no rebalance, no recovery.
    tables: Any = app.tables
    assert app.rebalancing_count == 0 and not tables.recovery.completed.is_set()
    assert type(app.transport) is drivers.Transport, (
        f"the app's transport is {type(app.transport)}; expected app.transport.drivers."
        f"Transport (broker {app.conf.broker}): Faust's own driver has the races"
    )
    consumer: Any = app.consumer
    assert type(consumer) is drivers.Consumer and type(app.producer) is drivers.Producer
    assert consumer.callback == consumer.deliver, (
        "the consumer hands records to the streams without the barrier's delivery rules"
    )
    for cls, names in OVERRIDES.items():
        base = faust_aiokafka.Consumer if cls is drivers.Consumer else faust_aiokafka.Producer
        for name in names:
            assert name in vars(cls) and getattr(cls, name) is not getattr(base, name), (
                f"{cls.__name__}.{name} is Faust's own: the override is gone"
            )


def test_the_broker_scheme_resolves_to_this_transport() -> None:
    assert transport_url("kafka://a:1;kafka://b:2") == f"{SCHEME}://a:1;{SCHEME}://b:2"
    resolved = faust_transport.by_url(f"{SCHEME}://127.0.0.1:9092")
    assert resolved is drivers.Transport, (
        f"{SCHEME}:// resolves to {resolved}; expected app.transport.drivers.Transport "
        "(pyproject.toml's faust.transports entry point; run `uv sync` after changing it)"
    )


async def test_every_private_name_the_transport_reads_exists_on_the_pinned_versions() -> None:
    app = faust.App("wiring-private", broker=transport_url("kafka://127.0.0.1:1"))
    app.finalize()
    kafka_producer = AIOKafkaProducer(
        bootstrap_servers="127.0.0.1:1", transactional_id="wiring-private-0"
    )
    instances: list[object] = [
        app.consumer,
        app.producer,
        kafka_producer,
        kafka_producer._txn_manager,
    ]
    missing = []
    for owner, name in private.PRIVATE_NAMES:
        if hasattr(owner, name):  # a method or a class attribute
            continue
        # An attribute set in __init__: look on real instances (never started).
        holders = [instance for instance in instances if isinstance(instance, owner)]
        if not holders or not all(hasattr(holder, name) for holder in holders):
            missing.append(f"{owner.__module__}.{owner.__name__}.{name}")
    assert not missing, (
        f"private names the transport reads are gone: {missing}; the installed versions are "
        f"{installed_versions()}, the transport was proven on {dict(PINNED)}"
    )


def test_the_pins_are_pyprojects() -> None:
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    # "faust-streaming[orjson]==0.15.3": the extra does not change what is pinned.
    specifiers = {
        requirement.name: str(requirement.specifier)
        for requirement in map(Requirement, project["dependencies"])
    }
    for name, pinned in PINNED.items():
        assert specifiers.get(name) == f"=={pinned}", (
            f"app/transport/versions.py pins {name} {pinned}; pyproject.toml asks for "
            f"{name}{specifiers.get(name, ' (nothing)')}"
        )
    assert mismatch(installed_versions()) is None, "the installed versions are not the pins"


def test_exactly_once_refuses_other_versions_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = {**PINNED, "aiokafka": "0.15.0"}
    with pytest.raises(SystemExit) as stopped:
        check_versions("exactly_once", other)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.count("\n") == 1, (
        f"exactly_once on aiokafka 0.15.0 exited {stopped.value.code} with {err!r}; expected "
        "exit 2 and one line"
    )
    assert "aiokafka 0.15.0 (pinned 0.14.0)" in err and "uv sync --locked" in err, (
        f"the line {err!r} does not say what differs and what to do"
    )


def test_at_least_once_runs_on_other_versions_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        check_versions("at_least_once", {**PINNED, "faust-streaming": "0.16.0"})
    assert any("faust-streaming 0.16.0" in record.message for record in caplog.records), (
        f"at_least_once on faust-streaming 0.16.0 logged {caplog.records}; expected a warning"
    )
    check_versions("exactly_once", dict(PINNED))  # the pinned versions: nothing to say


def test_a_topic_the_metadata_gives_0_partitions_is_unknown_not_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(Settings())
    thread = app.consumer._thread  # type: ignore[attr-defined]  # Faust builds ours
    assert isinstance(thread, drivers.ConsumerThread), f"the transport built {type(thread)}"
    # Faust's own answer, from aiokafka's metadata: 0 for a topic a broker does not know yet.
    snapshot = {"just-created-changelog": 0, "sensor-readings": 12}
    monkeypatch.setattr(
        faust_aiokafka.AIOKafkaConsumerThread,
        "topic_partitions",
        lambda self, topic: snapshot.get(topic),
    )
    answers = {topic: thread.topic_partitions(topic) for topic in [*snapshot, "missing"]}
    assert answers == {"just-created-changelog": None, "sensor-readings": 12, "missing": None}, (
        f"the consumer answered {answers}; expected None for the topic the metadata gives 0 "
        "partitions: Kafka has no topic without partitions, so it is unknown yet, and Faust's "
        "table check (None: skipped) would otherwise stop the table's agent with "
        "PartitionsMismatch"
    )
