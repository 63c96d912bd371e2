"""How many copies the app's topics get, that its producers wait for all of them, and the
TLS/SASL settings for an existing cluster."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

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


# --- TLS and SASL for an existing cluster ------------------------------------------------------


def aiokafka_options(env: dict[str, str]) -> Mapping[str, Any]:
    """What Faust hands every aiokafka client it makes for these settings."""
    app = create_app(Settings.from_env(env))
    return credentials_to_aiokafka_auth(app.conf.broker_credentials)


def test_plaintext_needs_no_credentials() -> None:
    assert aiokafka_options({}) == {"security_protocol": "PLAINTEXT"}


def test_sasl_over_tls_reaches_every_aiokafka_client() -> None:
    options = aiokafka_options(
        {
            "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
            "KAFKA_SASL_USERNAME": "kata",
            "KAFKA_SASL_PASSWORD": "s3cret",
        }
    )

    assert {k: v for k, v in options.items() if k != "ssl_context"} == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "kata",
        "sasl_plain_password": "s3cret",
    }
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED


def test_tls_alone_trusts_the_ca_file_given() -> None:
    ca = Path(certifi_like_bundle())
    options = aiokafka_options({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": str(ca)})

    assert options["security_protocol"] == "SSL"
    assert options["ssl_context"].get_ca_certs(), "the CA file's certificates should be loaded"


def certifi_like_bundle() -> str:
    """A CA bundle that exists on this machine (the one Python's ssl module was built with)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("no system CA bundle file on this machine")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL='TLS' must be one of "),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "kata"},
            "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "GSSAPI"},
            "KAFKA_SASL_MECHANISM='GSSAPI' must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
        ),
        ({"KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "KAFKA_SSL_CAFILE='/nonexistent/ca.pem'"),
    ],
)
def test_unusable_security_settings_are_one_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        Settings.from_env(env)

    assert str(raised.value).startswith(message), str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_password_is_never_printed() -> None:
    settings = Settings.from_env({"KAFKA_SASL_PASSWORD": "s3cret"})

    assert "s3cret" not in repr(settings)
