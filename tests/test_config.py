"""app.config: every setting can be overridden, and bad values are named clearly."""

from __future__ import annotations

import pytest

from app.config import PRODUCER_MAX_REQUEST_BYTES, Settings, Topics, bootstrap_servers, broker_url

OVERRIDES = [
    ("KAFKA_BOOTSTRAP_SERVERS", "10.0.0.5:9093", "broker_url", "kafka://10.0.0.5:9093"),
    ("KATA_APP_ID", "my-app", "app_id", "my-app"),
    ("KATA_TOPIC_PREFIX", "t-1-", "topic_prefix", "t-1-"),
    ("KATA_TOPIC_PARTITIONS", "8", "topic_partitions", 8),
    ("KATA_REPLICATION_FACTOR", "2", "replication_factor", 2),
    ("KATA_WARNING_TEMPERATURE", "25.5", "warning_temperature", 25.5),
    ("KATA_CRITICAL_TEMPERATURE", "45", "critical_temperature", 45.0),
    ("KATA_MAX_TEMPERATURE", "200", "max_temperature", 200.0),
    ("KATA_WINDOW_SIZE", "30", "window_size", 30.0),
    ("KATA_WINDOW_GRACE", "0", "window_grace", 0.0),
    ("KATA_WINDOW_CLOSE_DELAY", "2.5", "window_close_delay", 2.5),
    ("KATA_WINDOW_TICK_INTERVAL", "0.5", "window_tick_interval", 0.5),
    ("KATA_COUNT_ALERT_THRESHOLD", "7", "count_alert_threshold", 7),
    ("KATA_COUNT_CHECK_INTERVAL", "0.5", "count_check_interval", 0.5),
    ("KATA_COUNT_REPORT_CRON", "*/5 * * * *", "count_report_cron", "*/5 * * * *"),
    ("KATA_WEB_BIND", "0.0.0.0", "web_bind", "0.0.0.0"),
    ("KATA_WEB_PORT", "6070", "web_port", 6070),
    ("KATA_PROCESSING_GUARANTEE", "exactly_once", "processing_guarantee", "exactly_once"),
    ("KATA_MAX_ID_BYTES", "64", "max_id_bytes", 64),
    ("KATA_MAX_CLOCK_SKEW", "0", "max_clock_skew", 0.0),
    ("KATA_MIN_EVENT_TIME", "946684800", "min_event_time", 946_684_800.0),
    ("KATA_WINDOW_QUORUM", "3", "window_quorum", 3),
    ("KATA_DEAD_LETTER_PAYLOAD_BYTES", "1000", "dead_letter_payload_bytes", 1000),
    ("KATA_DEAD_LETTER_KEY_BYTES", "100", "dead_letter_key_bytes", 100),
    ("KATA_FAUST_TUNING", "0", "faust_tuning", False),
    ("KAFKA_SECURITY_PROTOCOL", "ssl", "security_protocol", "SSL"),
    ("KAFKA_SASL_MECHANISM", "scram-sha-512", "sasl_mechanism", "SCRAM-SHA-512"),
    ("KAFKA_SASL_USERNAME", "kata", "sasl_username", "kata"),
    ("KAFKA_SASL_PASSWORD", "s3cret", "sasl_password", "s3cret"),
    ("KAFKA_SSL_CAFILE", __file__, "ssl_cafile", __file__),
    ("KATA_ENRICHMENT", "per-event", "enrichment", "per-event"),
    ("KATA_BATCH_SIZE", "250", "batch_size", 250),
    ("KATA_BATCH_WITHIN", "0.2", "batch_within", 0.2),
    ("KATA_COMMIT_INTERVAL", "0.5", "commit_interval", 0.5),
]


def test_every_field_has_an_override_in_this_table() -> None:
    overridden = {field for _, _, field, _ in OVERRIDES}

    # `topics` is derived from the prefix; every other field must be covered here.
    assert overridden | {"topics"} == set(Settings.__dataclass_fields__)


@pytest.mark.parametrize(("variable", "raw", "field", "expected"), OVERRIDES)
def test_an_environment_variable_overrides_its_field(
    variable: str, raw: str, field: str, expected: object
) -> None:
    settings = Settings.from_env({variable: raw})

    assert getattr(settings, field) == expected
    # ...and only that field.
    defaults = Settings()
    others = set(Settings.__dataclass_fields__) - {field, "topics"}
    assert {f: getattr(settings, f) for f in others} == {f: getattr(defaults, f) for f in others}


def test_no_environment_gives_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_blank_values_fall_back_to_the_defaults() -> None:
    assert Settings.from_env({variable: "  " for variable, *_ in OVERRIDES}) == Settings()


def test_the_prefix_applies_to_every_topic() -> None:
    topics = Settings.from_env({"KATA_TOPIC_PREFIX": "p-"}).topics

    assert topics == Topics(
        readings="p-sensor-readings",
        enriched="p-enriched-readings",
        dead_letter="p-sensor-dead-letter",
        window_aggregates="p-window-aggregates",
    )


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("KATA_TOPIC_PARTITIONS", "abc"),
        ("KATA_TOPIC_PARTITIONS", "0"),
        ("KATA_TOPIC_PARTITIONS", "1.5"),
        ("KATA_TOPIC_PARTITIONS", "-2"),
        ("KATA_WARNING_TEMPERATURE", "warm"),
        ("KATA_WARNING_TEMPERATURE", "nan"),
        ("KATA_CRITICAL_TEMPERATURE", "inf"),
        ("KATA_MAX_TEMPERATURE", "-inf"),
        ("KATA_WINDOW_SIZE", "0"),
        ("KATA_WINDOW_SIZE", "-60"),
        ("KATA_WINDOW_GRACE", "-1"),
        ("KATA_WINDOW_CLOSE_DELAY", "0"),
        ("KATA_WINDOW_TICK_INTERVAL", "-1"),
        ("KATA_COUNT_ALERT_THRESHOLD", "0"),
        ("KATA_COUNT_CHECK_INTERVAL", "0"),
        ("KATA_COUNT_REPORT_CRON", "every hour"),
        ("KATA_FAUST_TUNING", "off"),
        ("KATA_ENRICHMENT", "sometimes"),
        ("KATA_BATCH_SIZE", "0"),
        ("KATA_BATCH_WITHIN", "0"),
        ("KATA_COMMIT_INTERVAL", "-1"),
        ("KATA_COMMIT_INTERVAL", "soon"),
        ("KATA_WEB_PORT", "http"),
        ("KATA_WEB_PORT", "70000"),
        ("KATA_PROCESSING_GUARANTEE", "maybe_once"),
        ("KATA_MAX_CLOCK_SKEW", "-1"),
        ("KATA_MAX_CLOCK_SKEW", "inf"),
        ("KATA_MIN_EVENT_TIME", "soon"),
        ("KATA_WINDOW_QUORUM", "0"),
    ],
)
def test_a_bad_value_raises_value_error_naming_the_variable(variable: str, raw: str) -> None:
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: raw})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KATA_WARNING_TEMPERATURE": "50"}, "KATA_WARNING_TEMPERATURE"),  # above critical
        ({"KATA_WARNING_TEMPERATURE": "-1"}, "KATA_WARNING_TEMPERATURE"),
        ({"KATA_CRITICAL_TEMPERATURE": "30"}, "KATA_CRITICAL_TEMPERATURE"),  # equal to warning
        ({"KATA_MAX_TEMPERATURE": "39"}, "KATA_MAX_TEMPERATURE"),  # below critical
    ],
)
def test_thresholds_out_of_order_are_rejected(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("servers", "url"),
    [
        ("127.0.0.1:9092", "kafka://127.0.0.1:9092"),
        (" 127.0.0.1:9092 , other:9093", "kafka://127.0.0.1:9092;kafka://other:9093"),
        ("kafka://broker:19092", "kafka://broker:19092"),
    ],
)
def test_broker_url_is_fausts_form_of_every_server(servers: str, url: str) -> None:
    assert broker_url(servers) == url


@pytest.mark.parametrize(
    ("url", "servers"),
    [
        ("kafka://127.0.0.1:9092", "127.0.0.1:9092"),
        ("broker:9093", "broker:9093"),
        ("kafka://a:9092;kafka://b:9093", "a:9092,b:9093"),
    ],
)
def test_bootstrap_servers_is_the_plain_client_form(url: str, servers: str) -> None:
    assert bootstrap_servers(url) == servers


def test_the_two_forms_round_trip() -> None:
    assert bootstrap_servers(broker_url("127.0.0.1:29092")) == "127.0.0.1:29092"
    assert bootstrap_servers(broker_url("a:1,b:2")) == "a:1,b:2"


def test_dead_letter_limits_that_could_not_fit_a_record_are_refused() -> None:
    with pytest.raises(ValueError, match="KATA_DEAD_LETTER_PAYLOAD_BYTES") as caught:
        Settings.from_env({"KATA_DEAD_LETTER_PAYLOAD_BYTES": "900000"})
    assert "1,000,000" in str(caught.value)


def test_the_default_dead_letter_limits_fit_the_producer_with_room_to_spare() -> None:
    settings = Settings()
    assert settings.largest_dead_letter_bytes() <= PRODUCER_MAX_REQUEST_BYTES
    # Exact bytes are kept for any value up to two thirds of the broker's default limit.
    assert settings.dead_letter_payload_bytes >= 1_048_588 * 2 // 3
