"""How many copies the app's topics get, and that its producers wait for all of them."""

from __future__ import annotations

import pytest

from app.config import Settings
from app.faust_app import create_app


@pytest.mark.parametrize(
    ("servers", "replicas"),
    [
        ("127.0.0.1:9092", 1),  # one broker: it cannot hold more than one copy
        ("a:9092,b:9092", 2),
        ("a:9092,b:9092,c:9092", 3),
        ("a:1,b:2,c:3,d:4,e:5", 3),  # three copies are enough, however big the cluster
    ],
)
def test_the_replication_factor_follows_the_bootstrap_list(servers: str, replicas: int) -> None:
    settings = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": servers})

    assert settings.replication_factor == replicas, (
        f"KAFKA_BOOTSTRAP_SERVERS={servers} gave replication factor "
        f"{settings.replication_factor}; expected {replicas} (one per listed server, at most 3)"
    )


def test_kata_replication_factor_overrides_the_list() -> None:
    # One address in front of a bigger cluster (a load balancer, a cloud endpoint).
    env = {"KAFKA_BOOTSTRAP_SERVERS": "kafka.example.com:9092", "KATA_REPLICATION_FACTOR": "3"}

    assert Settings.from_env(env).replication_factor == 3


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("0", "must be a positive whole number"),
        ("1.5", "must be a positive whole number"),
        ("-1", "must be a positive whole number"),
        ("two", "is not a number"),
    ],
)
def test_a_bad_replication_factor_is_a_clear_error(bad: str, why: str) -> None:
    with pytest.raises(ValueError, match=f"^KATA_REPLICATION_FACTOR='{bad}' {why}$"):
        Settings.from_env({"KATA_REPLICATION_FACTOR": bad})


def test_the_app_declares_its_topics_with_the_setting_and_waits_for_every_replica() -> None:
    servers = "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"
    app = create_app(Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": servers}))

    assert app.conf.topic_replication_factor == 3, (
        "Faust creates the changelog, repartition and app topics with topic_replication_factor"
    )
    assert app.conf.producer_acks == -1, "acks=all: a write counts once every in-sync copy has it"
