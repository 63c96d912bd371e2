"""The pytest plugin behind every test run in this repository.

Options:
  --solutions      run the tests against ``solutions/`` instead of your ``katas/phaseN`` modules
  --require-kafka  a kafka test that cannot get a broker fails instead of skipping (CI uses this)
  --mutant NAME    (maintainers) run against the solutions with one known-wrong change applied

Fixtures:
  kafka_bootstrap  ``host:port`` of a real broker from the broker chain (session scope)
  kafka_isolation  unique app id and topic prefix for one test, plus the env vars that carry them
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from katas.engine import switch


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata")
    group.addoption(
        "--solutions",
        action="store_true",
        help="test the reference solutions instead of your katas/phaseN modules",
    )
    group.addoption(
        "--require-kafka",
        action="store_true",
        help="fail (instead of skip) kafka tests when no broker can be provided",
    )
    group.addoption(
        "--mutant",
        default=None,
        metavar="NAME",
        help="(maintainers) test the solutions with the named mutant applied",
    )


def pytest_configure(config: pytest.Config) -> None:
    mutant = config.getoption("--mutant")
    if config.getoption("--solutions") or mutant:
        switch.use_solutions()
    if mutant:
        from tests.mutants import apply_mutant

        apply_mutant(mutant)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test that needs the broker is a kafka test, so `-m "not kafka"` leaves it out.
    for item in items:
        if "kafka_bootstrap" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # Under --require-kafka a skipped kafka test proves nothing, so it counts as a failure.
    if (
        report.skipped
        and item.get_closest_marker("kafka")
        and item.config.getoption("--require-kafka")
    ):
        report.outcome = "failed"
        report.longrepr = f"kafka test skipped under --require-kafka: {report.longrepr}"
    return report


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    """Bootstrap servers (``host:port``) of a real Apache Kafka broker for this test session."""
    from katas.engine.broker import BrokerUnavailable, provide_broker

    with ExitStack() as stack:
        try:
            broker = stack.enter_context(provide_broker())
        except BrokerUnavailable as exc:
            if request.config.getoption("--require-kafka"):
                pytest.fail(f"no Kafka broker: {exc}", pytrace=False)
            pytest.skip(f"no Kafka broker: {exc}")
        yield broker.bootstrap_servers


@dataclass(frozen=True)
class KafkaIsolation:
    """Names that belong to one test only, so tests never see each other's data."""

    bootstrap_servers: str
    app_id: str
    topic_prefix: str

    def topic(self, name: str) -> str:
        """A topic name unique to this test."""
        return f"{self.topic_prefix}{name}"

    def env(self) -> dict[str, str]:
        """The environment for a worker or CLI subprocess that should use these names."""
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "KATA_APP_ID": self.app_id,
            "KATA_TOPIC_PREFIX": self.topic_prefix,
        }


@pytest.fixture
def kafka_isolation(kafka_bootstrap: str) -> KafkaIsolation:
    token = uuid.uuid4().hex[:10]
    return KafkaIsolation(kafka_bootstrap, f"kata-test-{token}", f"t-{token}-")
