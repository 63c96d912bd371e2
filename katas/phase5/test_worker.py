"""Phase 5 for real: phases 2-5 in one Faust worker, exactly_once, against a real broker.

300 readings (some malformed) go in; ``curl``-ing /status/ of the running worker must show them
counted (a bounded wait), with the app id and the guarantee; and the worker, started at the log
level of your ``commit_log()``, must show its transactional commits in its log.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from app.producer import KIND_HEADER, VALID
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import Worker, create_topics, read_records, running_worker
from katas.phase5.guarantee import commit_log

# The phases the worker loads. A stub left in any of their tasks fails this test at once,
# before a broker is asked for (the kata plugin reads this name).
KATA_PHASES = "2,3,4,5"
PRODUCER = [sys.executable, "-m", "app.producer", "--interval", "0", "--include-bad"]
READINGS = 300
PARTITIONS = 4
WAIT_S = 120.0  # a guard against a hang, not a performance assertion


def get_status(worker: Worker) -> dict[str, Any] | None:
    url = f"http://127.0.0.1:{worker.web_port}/status/"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body: dict[str, Any] = json.load(response)
            return body
    except (urllib.error.URLError, ConnectionError):
        return None  # the web server is not up yet


@pytest.mark.kafka
def test_status_of_a_running_worker_counts_what_was_just_produced(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    level, commit_text = commit_log()
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")  # broker only now
    servers = isolation.bootstrap_servers
    names = ("enriched-readings", "sensor-dead-letter", "window-aggregates", "window-ticks")
    asyncio.run(create_topics(servers, [isolation.topic(name) for name in names], PARTITIONS))
    env = {
        **isolation.env(),
        "KATA_PROCESSING_GUARANTEE": "",  # phase 5's own choice
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
    }

    with running_worker(env, tmp_path, phases=KATA_PHASES, loglevel=level) as worker:
        subprocess.run(
            [*PRODUCER, "--count", str(READINGS), "--seed", "7"],
            env=env,
            check=True,
            capture_output=True,
        )
        raw = asyncio.run(read_records(servers, [isolation.topic("sensor-readings")], READINGS))
        valid = [
            json.loads(r.value or b"") for r in raw if r.headers.get(KIND_HEADER) == VALID.encode()
        ]
        per_sensor = dict(sorted(Counter(reading["sensor_id"] for reading in valid).items()))
        malformed = READINGS - len(valid)
        # The producer's clock kinds (timestamp_zero, ..._year_2100, ...) keep their sensor's key.
        clock = Counter(
            (r.key or b"").decode()
            for r in raw
            if r.headers.get(KIND_HEADER, b"").startswith(b"timestamp_")
        )
        clock_rejected = dict(sorted(clock.items()))

        deadline = time.monotonic() + WAIT_S
        status = get_status(worker)
        while status is None or (
            status["readings_per_sensor"] != per_sensor
            or sum(status["dead_letters_per_error_code"].values()) != malformed
            or sum(status["readings_per_status"].values()) != len(valid)  # via a repartition
            or status.get("clock_rejected_per_sensor") != clock_rejected
        ):
            worker.check_alive()
            assert time.monotonic() < deadline, (
                f"/status/ did not show the {READINGS} readings within {WAIT_S:g} s: it shows "
                f"{status}; expected readings_per_sensor {per_sensor}, {len(valid)} readings "
                f"per status in all, {malformed} dead letters and clock_rejected_per_sensor "
                f"{clock_rejected}. Worker log:\n"
                f"{worker.log_tail()}"
            )
            time.sleep(0.5)
            status = get_status(worker)
        log = worker.log.read_text(errors="replace")

    print(f"\ncurl http://127.0.0.1:{worker.web_port}/status/\n{json.dumps(status, indent=2)}")
    assert status["app_id"] == isolation.app_id, (
        f"/status/ says app_id {status['app_id']!r}; expected the worker's {isolation.app_id!r}"
    )
    assert status["processing_guarantee"] == "exactly_once", (
        f"/status/ says the worker runs {status['processing_guarantee']!r}; expected exactly_once"
    )
    commits = [
        line
        for line in log.splitlines()
        if commit_text in line and f"transaction {isolation.app_id}-" in line
    ]
    print("\n".join(commits[:3]))
    assert commits, (
        f"a worker started with `-l {level}` logged no line with {commit_text!r} naming a "
        f"transaction of {isolation.app_id}: find the level and the text of the transactional "
        "commits in Faust's source (README: Seeing the transactions)"
    )
