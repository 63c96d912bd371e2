"""All settings of the sensor pipeline in one place (provided; read it, don't edit it).

Every value can be overridden with an environment variable, named in the comment beside it.
Tests use ``KATA_APP_ID`` and ``KATA_TOPIC_PREFIX`` to isolate themselves from each other.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from enum import StrEnum

from croniter import croniter  # what Faust's crontab uses, so the check matches the worker


class Status(StrEnum):
    """What an enriched reading says about its temperature."""

    NORMAL = "normal"
    WARNING = "warning"
    CRITICAL = "critical"


class ErrorCode(StrEnum):
    """Why a raw event was sent to the dead-letter topic (machine-readable).

    Validation checks in this order and reports the first problem it finds.
    """

    EMPTY_PAYLOAD = "empty_payload"  # the Kafka value is null or has no bytes
    INVALID_UTF8 = "invalid_utf8"  # the bytes are not UTF-8 text
    NOT_JSON = "not_json"  # the text is not JSON
    NOT_AN_OBJECT = "not_an_object"  # JSON, but not {...}
    MISSING_FIELD = "missing_field"  # a required field is absent
    WRONG_TYPE = "wrong_type"  # a field has the wrong JSON type (null counts as wrong)
    INVALID_TEXT = "invalid_text"  # a text field holds a lone surrogate ("\\ud800"): not Unicode
    NOT_FINITE = "not_finite"  # NaN or +/-Infinity where a number is expected
    EMPTY_SENSOR_ID = "empty_sensor_id"  # sensor_id is "" or only whitespace
    NEGATIVE_TEMPERATURE = "negative_temperature"  # temperature < 0
    OUT_OF_RANGE = "out_of_range"  # temperature above the maximum, humidity outside 0..100
    ID_TOO_LONG = "id_too_long"  # reading_id or sensor_id longer than max_id_bytes (UTF-8)
    # Last: event time a sensor could not have produced (phase 2 README, "Clocks"). These two
    # depend on when the reading is checked, every other check only on its bytes.
    TIMESTAMP_TOO_OLD = "timestamp_too_old"  # before min_event_time: a reset clock (0, 1970, 2000)
    TIMESTAMP_IN_FUTURE = "timestamp_in_future"  # after now + max_clock_skew (ms, not s; a bad RTC)
    # Not from validation: an event that could not be handled for another reason (phase 2 README).
    PROCESSING_FAILED = "processing_failed"  # the pipeline's own code raised on this event
    SEND_FAILED = "send_failed"  # the producer or the broker refused the event's output
    # Not from validation: phase 4 dead-letters a valid reading whose window has already closed.
    LATE_EVENT = "late_event"  # event time in a window already closed (beyond the grace period)


# Codes that the agents give, not parse_reading.
AGENT_CODES = (ErrorCode.PROCESSING_FAILED, ErrorCode.SEND_FAILED, ErrorCode.LATE_EVENT)
# The codes parse_reading reports, in the order of its checks.
VALIDATION_CODES: tuple[ErrorCode, ...] = tuple(
    code for code in ErrorCode if code not in AGENT_CODES
)


@dataclass(frozen=True)
class Topics:
    """Topic names, with the optional prefix already applied."""

    readings: str
    enriched: str
    dead_letter: str
    window_aggregates: str

    @classmethod
    def with_prefix(cls, prefix: str) -> Topics:
        return cls(
            readings=f"{prefix}sensor-readings",
            enriched=f"{prefix}enriched-readings",
            dead_letter=f"{prefix}sensor-dead-letter",
            window_aggregates=f"{prefix}window-aggregates",
        )


ENRICHMENT_CHOICES = ("auto", "per-event", "batched")  # KATA_ENRICHMENT, see Settings
# KATA_COMMIT_INTERVAL when unset, by guarantee (README, "Performance": the curve). exactly_once:
# 0.1 s, the lowest latency (outputs are visible only once committed); the transport commits the
# transactions at once and paces its timer, so commits never pile up (app/transport/commits.py).
# at_least_once: Faust's 2.8 s, as outputs are visible at once and a commit only bounds the redo.
COMMIT_INTERVALS = {"exactly_once": 0.1, "at_least_once": 2.8}


@dataclass(frozen=True)
class Settings:
    """The pipeline's configuration. Build it with :meth:`from_env`."""

    broker_url: str = "kafka://127.0.0.1:9092"  # KAFKA_BOOTSTRAP_SERVERS
    app_id: str = "sensor-metrics"  # KATA_APP_ID
    topic_prefix: str = ""  # KATA_TOPIC_PREFIX
    topic_partitions: int = 4  # KATA_TOPIC_PARTITIONS
    # KATA_REPLICATION_FACTOR: copies of every topic the app creates (its own, changelogs,
    # repartition). Default: the servers listed in KAFKA_BOOTSTRAP_SERVERS, at most 3 (one
    # listed server: 1). Set it when the list names fewer brokers than the cluster has.
    replication_factor: int = 1
    warning_temperature: float = 30.0  # KATA_WARNING_TEMPERATURE: warning at >= this (°C)
    critical_temperature: float = 40.0  # KATA_CRITICAL_TEMPERATURE: critical at >= this (°C)
    max_temperature: float = 150.0  # KATA_MAX_TEMPERATURE: above this a reading is malformed
    window_size: float = 60.0  # KATA_WINDOW_SIZE: tumbling window length (s)
    window_grace: float = 10.0  # KATA_WINDOW_GRACE: how long a window accepts late events (s)
    window_close_delay: float = (
        30.0  # KATA_WINDOW_CLOSE_DELAY: a partition silent this long closes its windows (s)
    )
    window_tick_interval: float = 5.0  # KATA_WINDOW_TICK_INTERVAL: idle check period (s)
    count_alert_threshold: int = (
        100  # KATA_COUNT_ALERT_THRESHOLD: readings before a sensor is logged
    )
    count_check_interval: float = 10.0  # KATA_COUNT_CHECK_INTERVAL: timer period (s)
    count_report_cron: str = "0 * * * *"  # KATA_COUNT_REPORT_CRON: when to log the totals (cron)
    web_bind: str = "127.0.0.1"  # KATA_WEB_BIND: loopback only unless you say otherwise
    web_port: int = 6066  # KATA_WEB_PORT
    processing_guarantee: str = "at_least_once"  # KATA_PROCESSING_GUARANTEE: or exactly_once
    max_id_bytes: int = 256  # KATA_MAX_ID_BYTES: longest reading_id / sensor_id (UTF-8 bytes)
    # Event time a sensor could not have produced is a dead letter (phase 2 README, "Clocks").
    # KATA_MAX_CLOCK_SKEW: a timestamp more than this many seconds after the checker's own
    # clock is in the future (5 min: NTP-synced devices are within a second, a free-running RTC
    # drifts a few seconds a day; milliseconds read as seconds land ~50,000 years ahead).
    max_clock_skew: float = 300.0
    # KATA_MIN_EVENT_TIME: an earlier timestamp is a clock that reset (epoch seconds; default
    # 2015-01-01T00:00:00Z, well after the reset values 1970, 1980 (GPS) and 2000 (RTC chips)).
    min_event_time: float = 1_420_070_400.0
    # KATA_WINDOW_QUORUM: how many sensors of a partition must have passed an event time before
    # it closes the windows of the partition's other sensors (phase 4 README, "Blast radius").
    window_quorum: int = 2
    # A dead letter stores at most this many bytes of the original value and key; longer ones are
    # truncated (with their full size and SHA-256), so every dead letter fits in one Kafka record.
    dead_letter_payload_bytes: int = 700_000  # KATA_DEAD_LETTER_PAYLOAD_BYTES
    dead_letter_key_bytes: int = 16_384  # KATA_DEAD_LETTER_KEY_BYTES
    faust_tuning: bool = True  # KATA_FAUST_TUNING: 0 = Faust's own defaults (to benchmark them)
    # An existing cluster's security (app/broker_auth.py): PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL.
    security_protocol: str = "PLAINTEXT"  # KAFKA_SECURITY_PROTOCOL
    sasl_mechanism: str = "PLAIN"  # KAFKA_SASL_MECHANISM: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    sasl_username: str = ""  # KAFKA_SASL_USERNAME
    sasl_password: str = field(default="", repr=False)  # KAFKA_SASL_PASSWORD: never printed
    ssl_cafile: str = ""  # KAFKA_SSL_CAFILE: the CA that signed the brokers' certificates
    # KATA_ENRICHMENT: which phase 2 agent the worker runs: per-event (task 2.4), batched (task
    # 2.5), or auto: batched once task 2.5's module is written (always with KATA_IMPL=solutions).
    enrichment: str = "auto"
    batch_size: int = 1_000  # KATA_BATCH_SIZE: task 2.5's agent handles at most this many at once
    batch_within: float = 0.01  # KATA_BATCH_WITHIN: s a partial batch waits for more events
    # KATA_COMMIT_INTERVAL: s between offset commits; under exactly_once also between transaction
    # commits, so the time before an output is visible to read_committed readers. None (unset):
    # the guarantee's default, COMMIT_INTERVALS; the worker uses ``commit_interval_s``.
    commit_interval: float | None = None
    topics: Topics = field(default_factory=lambda: Topics.with_prefix(""))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: ``os.environ``); raise ValueError if bad."""
        env = dict(os.environ if env is None else env)
        default = cls()

        def text(name: str, fallback: str) -> str:
            return env.get(name, "").strip() or fallback

        def number(name: str, fallback: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return fallback
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a number") from None
            if not math.isfinite(value):
                raise ValueError(f"{name}={raw!r} must be a finite number")
            return value

        def switch(name: str, fallback: bool) -> bool:
            raw = text(name, "1" if fallback else "0")
            if raw not in ("0", "1"):
                raise ValueError(f"{name}={raw!r} must be 1 (on) or 0 (off)")
            return raw == "1"

        def whole(name: str, fallback: int) -> int:
            value = number(name, fallback)
            if value != int(value) or value < 1:
                raise ValueError(f"{name}={env[name]!r} must be a positive whole number")
            return int(value)

        guarantee = text("KATA_PROCESSING_GUARANTEE", default.processing_guarantee)
        if guarantee not in ("at_least_once", "exactly_once"):
            raise ValueError(
                f"KATA_PROCESSING_GUARANTEE={guarantee!r} must be at_least_once or exactly_once"
            )
        enrichment = text("KATA_ENRICHMENT", default.enrichment)
        if enrichment not in ENRICHMENT_CHOICES:
            raise ValueError(
                f"KATA_ENRICHMENT={enrichment!r} must be one of {', '.join(ENRICHMENT_CHOICES)}"
            )
        prefix = text("KATA_TOPIC_PREFIX", default.topic_prefix)
        url = broker_url(text("KAFKA_BOOTSTRAP_SERVERS", default.broker_url))
        settings = cls(
            broker_url=url,
            app_id=text("KATA_APP_ID", default.app_id),
            topic_prefix=prefix,
            topic_partitions=whole("KATA_TOPIC_PARTITIONS", default.topic_partitions),
            replication_factor=whole("KATA_REPLICATION_FACTOR", listed_replication(url)),
            warning_temperature=number("KATA_WARNING_TEMPERATURE", default.warning_temperature),
            critical_temperature=number("KATA_CRITICAL_TEMPERATURE", default.critical_temperature),
            max_temperature=number("KATA_MAX_TEMPERATURE", default.max_temperature),
            window_size=number("KATA_WINDOW_SIZE", default.window_size),
            window_grace=number("KATA_WINDOW_GRACE", default.window_grace),
            window_close_delay=number("KATA_WINDOW_CLOSE_DELAY", default.window_close_delay),
            window_tick_interval=number("KATA_WINDOW_TICK_INTERVAL", default.window_tick_interval),
            count_alert_threshold=whole(
                "KATA_COUNT_ALERT_THRESHOLD", default.count_alert_threshold
            ),
            count_check_interval=number("KATA_COUNT_CHECK_INTERVAL", default.count_check_interval),
            count_report_cron=text("KATA_COUNT_REPORT_CRON", default.count_report_cron),
            web_bind=text("KATA_WEB_BIND", default.web_bind),
            web_port=whole("KATA_WEB_PORT", default.web_port),
            processing_guarantee=guarantee,
            max_id_bytes=whole("KATA_MAX_ID_BYTES", default.max_id_bytes),
            max_clock_skew=number("KATA_MAX_CLOCK_SKEW", default.max_clock_skew),
            min_event_time=number("KATA_MIN_EVENT_TIME", default.min_event_time),
            window_quorum=whole("KATA_WINDOW_QUORUM", default.window_quorum),
            dead_letter_payload_bytes=whole(
                "KATA_DEAD_LETTER_PAYLOAD_BYTES", default.dead_letter_payload_bytes
            ),
            dead_letter_key_bytes=whole(
                "KATA_DEAD_LETTER_KEY_BYTES", default.dead_letter_key_bytes
            ),
            faust_tuning=switch("KATA_FAUST_TUNING", default.faust_tuning),
            security_protocol=text("KAFKA_SECURITY_PROTOCOL", default.security_protocol).upper(),
            sasl_mechanism=text("KAFKA_SASL_MECHANISM", default.sasl_mechanism).upper(),
            sasl_username=text("KAFKA_SASL_USERNAME", default.sasl_username),
            sasl_password=text("KAFKA_SASL_PASSWORD", default.sasl_password),
            ssl_cafile=text("KAFKA_SSL_CAFILE", default.ssl_cafile),
            enrichment=enrichment,
            batch_size=whole("KATA_BATCH_SIZE", default.batch_size),
            batch_within=number("KATA_BATCH_WITHIN", default.batch_within),
            commit_interval=(
                number("KATA_COMMIT_INTERVAL", 0.0) if text("KATA_COMMIT_INTERVAL", "") else None
            ),
            topics=Topics.with_prefix(prefix),
        )
        check_security(settings)
        if not 0 <= settings.warning_temperature < settings.critical_temperature:
            raise ValueError(
                "KATA_WARNING_TEMPERATURE and KATA_CRITICAL_TEMPERATURE must satisfy "
                "0 <= warning < critical"
            )
        if settings.critical_temperature > settings.max_temperature:
            raise ValueError("KATA_MAX_TEMPERATURE must be at least KATA_CRITICAL_TEMPERATURE")
        if settings.window_size <= 0 or settings.window_grace < 0:
            raise ValueError("KATA_WINDOW_SIZE must be > 0 and KATA_WINDOW_GRACE >= 0")
        if settings.window_close_delay <= 0 or settings.window_tick_interval <= 0:
            raise ValueError("KATA_WINDOW_CLOSE_DELAY and KATA_WINDOW_TICK_INTERVAL must be > 0")
        if settings.max_clock_skew < 0:
            raise ValueError("KATA_MAX_CLOCK_SKEW must be >= 0 (seconds)")
        if settings.batch_within <= 0 or settings.commit_interval_s <= 0:
            raise ValueError("KATA_BATCH_WITHIN and KATA_COMMIT_INTERVAL must be > 0 (seconds)")
        if settings.count_check_interval <= 0:
            raise ValueError("KATA_COUNT_CHECK_INTERVAL must be > 0")
        if not croniter.is_valid(settings.count_report_cron):
            raise ValueError(
                f"KATA_COUNT_REPORT_CRON={settings.count_report_cron!r} is not a cron expression "
                "(five fields, e.g. '0 * * * *')"
            )
        if settings.largest_dead_letter_bytes() > PRODUCER_MAX_REQUEST_BYTES:
            raise ValueError(
                "KATA_DEAD_LETTER_PAYLOAD_BYTES and KATA_DEAD_LETTER_KEY_BYTES are too large: "
                f"a dead letter could be {settings.largest_dead_letter_bytes():,} bytes, more "
                f"than the producer sends ({PRODUCER_MAX_REQUEST_BYTES:,})"
            )
        if settings.web_port > 65535:
            raise ValueError(f"KATA_WEB_PORT={settings.web_port} must be at most 65535")
        return settings

    @property
    def commit_interval_s(self) -> float:
        """The worker's commit interval: KATA_COMMIT_INTERVAL if set, else its guarantee's."""
        if self.commit_interval is not None:
            return self.commit_interval
        return COMMIT_INTERVALS[self.processing_guarantee]

    def largest_dead_letter_bytes(self) -> int:
        """An upper bound of one dead letter on the wire: Kafka key + JSON value + headers.

        Base64 turns 3 bytes into 4; the key is stored in the value AND used as the Kafka key;
        the reason is at most MAX_REASON_CHARS characters, each at most 6 bytes in JSON
        (``\\uXXXX``) and 4 in the UTF-8 header; the other fields fit in DEAD_LETTER_OVERHEAD.
        """
        payload = 4 * math.ceil(self.dead_letter_payload_bytes / 3)
        key = 4 * math.ceil(self.dead_letter_key_bytes / 3) + self.dead_letter_key_bytes
        reason = 10 * MAX_REASON_CHARS
        return payload + key + reason + DEAD_LETTER_OVERHEAD


# Faust's producer refuses a record larger than this (faust's producer_max_request_size default).
PRODUCER_MAX_REQUEST_BYTES = 1_000_000
MAX_REASON_CHARS = 1_000  # a dead letter's reason is cut to this many characters
DEAD_LETTER_OVERHEAD = 4_096  # field names, numbers, hashes, the error_code header, framing


def broker_url(servers: str) -> str:
    """Turn ``host:port[,host:port]`` into Faust's form: ``kafka://`` URLs joined by ``;``.

    Every server is kept: a client that can reach any one of them finds the whole cluster.
    """
    urls = [part.strip() for part in servers.split(",") if part.strip()]
    return ";".join(url if "://" in url else f"kafka://{url}" for url in urls)


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def check_security(settings: Settings) -> None:
    """Raise ValueError (one line) for security settings the broker connection cannot use."""
    protocol = settings.security_protocol
    if protocol not in SECURITY_PROTOCOLS:
        raise ValueError(
            f"KAFKA_SECURITY_PROTOCOL={protocol!r} must be one of {', '.join(SECURITY_PROTOCOLS)}"
        )
    if protocol.startswith("SASL_"):
        if settings.sasl_mechanism not in SASL_MECHANISMS:
            raise ValueError(
                f"KAFKA_SASL_MECHANISM={settings.sasl_mechanism!r} must be one of "
                + ", ".join(SASL_MECHANISMS)
            )
        if not settings.sasl_username or not settings.sasl_password:
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and "
                "KAFKA_SASL_PASSWORD"
            )
    if settings.ssl_cafile and not os.path.isfile(settings.ssl_cafile):
        raise ValueError(f"KAFKA_SSL_CAFILE={settings.ssl_cafile!r} is not a file")


def listed_replication(url: str) -> int:
    """The replication factor a bootstrap list implies: one copy per listed server, at most 3."""
    return max(1, min(3, len(bootstrap_servers(url).split(","))))


def bootstrap_servers(url: str) -> str:
    """Turn Faust's ``kafka://host:port[;kafka://...]`` back into ``host:port[,...]``."""
    return ",".join(part.strip().split("://", 1)[-1] for part in url.split(";") if part.strip())


settings = Settings.from_env()
