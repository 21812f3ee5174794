"""Backfill steps on two real Celery workers fed by RabbitMQ, under one organisation-wide rate limit.

Everything is real: a RabbitMQ virtual host of the test's own, two `celery` worker processes started with the
documented command, runs launched from their own process with RUTTER_EXECUTOR=celery, PostgreSQL for Dagster's
storage (and the shared rate limiter) and for the warehouse, and the sandbox over HTTP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from rutter_pipeline.app.runtime import write_dagster_yaml
from rutter_pipeline.rutter.catalog import Family, endpoints_for
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.warehouse.engine import warehouse_engine
from rutter_pipeline_tests.fixtures.databases import POSTGRES_SERVER, _fresh_database
from rutter_pipeline_tests.sync.truth import assert_matches_truth

BIN = Path(sys.executable).parent
#: The organisation's budget in this test: low, so that two workers pulling at once must share it.
LIMIT = (50, 10.0)


def _months_back(months: int) -> str:
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


MONTHS = [_months_back(2), _months_back(1), _months_back(0)]


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A RabbitMQ virtual host of this test's own (parallel tests never share a queue), removed afterwards."""
    vhost = f"rp_test_{uuid.uuid4().hex[:12]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def dagster_storage_url() -> Iterator[str]:
    """A fresh PostgreSQL database for Dagster's runs and events and the shared rate limiter."""
    yield from _fresh_database(POSTGRES_SERVER, "postgres", mysql=False)


@pytest.fixture
def two_shops() -> Iterator[Sandbox]:
    """Two small Shopify connections behind the low organisation-wide limit."""
    sandbox = Sandbox(seed=21, profile="empty", rate_limit=LIMIT)
    sandbox.add_connection("SHOPIFY", name="North shop", orders=150, customers=40, transactions=60)
    sandbox.add_connection("SHOPIFY", name="South shop", orders=120, customers=30, transactions=50)
    with sandbox:
        yield sandbox


@pytest.fixture
def environment(tmp_path, two_shops, postgres_url, dagster_storage_url, broker_url, monkeypatch) -> dict[str, str]:
    """The environment every process of this deployment shares (workers, run launchers, this test)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    write_dagster_yaml(home)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "RUTTER_DAGSTER_STORAGE_URL": dagster_storage_url,
        "WAREHOUSE_URL": postgres_url,
        "RUTTER_BASE_URL": two_shops.base_url,
        "RUTTER_CLIENT_ID": DEFAULT_CLIENT_ID,
        "RUTTER_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "RUTTER_RATE_LIMIT": f"{LIMIT[0]}/{LIMIT[1]:g}",
        "RUTTER_HISTORY_START": MONTHS[0],
        "RUTTER_EXECUTOR": "celery",
        "RUTTER_CELERY_BROKER_URL": broker_url,
        "RUTTER_MAX_CONCURRENT_RUNS": "4",
    }
    # This process reads the instance too (to follow the runs); its dagster.yaml names the storage variable.
    monkeypatch.setenv("RUTTER_DAGSTER_STORAGE_URL", dagster_storage_url)
    return env


@pytest.fixture
def workers(environment, tmp_path) -> Iterator[dict[str, subprocess.Popen]]:
    """Two Celery workers (one step at a time each), started with the documented command, stopped afterwards."""
    started: dict[str, subprocess.Popen] = {}
    logs: dict[str, Path] = {}
    try:
        for name in ("w1", "w2"):
            logs[name] = tmp_path / f"{name}.log"
            started[name] = subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "rutter_pipeline.app.celery_worker",
                    "worker",
                    "--hostname",
                    f"{name}@rutter-test",
                    "--concurrency",
                    "1",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "INFO",
                ],
                env=environment,
                stdout=logs[name].open("w"),
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while not all(" ready." in logs[name].read_text() for name in started):
            for name, process in started.items():
                assert process.poll() is None, f"worker {name} exited:\n{logs[name].read_text()}"
            assert time.monotonic() < deadline, "the workers did not become ready within 60 s"
            time.sleep(0.2)
        yield started
    finally:
        # A cold shutdown (SIGQUIT): nothing is running any more, and a warm one waits for heartbeats.
        for process in started.values():
            process.send_signal(signal.SIGQUIT)
        for process in started.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _launch(environment: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rutter_pipeline_tests.scale.celery_launch", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished(process: subprocess.Popen, timeout: float = 120) -> list[tuple[str, str]]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return [tuple(line.split()) for line in out.splitlines() if line.strip()]


def _step_records(instance: dg.DagsterInstance, run_id: str) -> tuple[set[str], set[int]]:
    """Which Celery workers executed the run's steps (their engine events) and the pids of its step events."""
    hosts, pids = set(), set()
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.is_engine_event and "in celery worker" in (event.message or ""):
            hosts.add(str(event.engine_event_data.metadata["Celery worker"].value))
        if event.step_key and event.event_type_value in ("STEP_START", "STEP_SUCCESS", "ASSET_MATERIALIZATION"):
            pids.add(event.pid)
    return hosts, pids


def _failure(instance: dg.DagsterInstance, run_id: str) -> str:
    """What the run's failure and its steps' failures say."""
    said = []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event and (event.is_run_failure or event.is_step_failure):
            error = getattr(event.event_specific_data, "error", None)
            said.append(f"{event.message} {error.to_string() if error else ''}")
    return "\n".join(said)


def _pool_children(worker: subprocess.Popen) -> set[int]:
    """The pids of a worker's pool processes (where the steps execute)."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def _step_starts(instance: dg.DagsterInstance) -> dict[str, int]:
    """run id → pid of every STEP_START event in the instance."""
    records = instance.get_event_records(dg.EventRecordsFilter(event_type=dg.DagsterEventType.STEP_START))
    return {r.event_log_entry.run_id: r.event_log_entry.dagster_event.pid for r in records}


def _wait_for_new_step(instance: dg.DagsterInstance, seen: set[str], timeout: float = 60) -> tuple[str, int]:
    """The run id and pid of a step that starts in a run not in `seen`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = {run: pid for run, pid in _step_starts(instance).items() if run not in seen}
        if new:
            return next(iter(new.items()))
        time.sleep(0.2)
    raise AssertionError(f"no step started within {timeout} s")


def test_steps_run_on_the_workers_under_one_rate_limit_and_survive_a_killed_worker(
    environment, workers, two_shops, postgres_url
):
    north, south = (c["id"] for c in two_shops.connections())
    pool = {pid: name for name, worker in workers.items() for pid in _pool_children(worker)}

    # Both connections at once, a run of several months each (as the connection sensor requests them): North's
    # three months, South's last two (its first month is loaded below).
    launchers = [
        _launch(environment, "commerce_backfill", north, MONTHS[0], MONTHS[2]),
        _launch(environment, "commerce_backfill", south, MONTHS[1], MONTHS[2]),
    ]
    runs = [run for launcher in launchers for run in _finished(launcher)]
    assert [status for _, status in runs] == ["SUCCESS"] * 2, runs
    used = set()
    with dg.DagsterInstance.from_config(environment["DAGSTER_HOME"]) as instance:
        for run_id, _ in runs:
            hosts, pids = _step_records(instance, run_id)
            assert len(hosts) == 1 and hosts <= {"w1@rutter-test", "w2@rutter-test"}, hosts
            # The step's own events were written by a worker's pool process, never by the launching process.
            assert pids and pids <= set(pool), (pids, pool)
            used |= hosts
        assert used == {"w1@rutter-test", "w2@rutter-test"}, "both workers took steps"

        # South's first month: its first page of orders hangs, and the worker running the step is killed.
        two_shops.inject_fault("slow", path="/orders", delay_s=15, count=1)
        seen = set(_step_starts(instance))
        launcher = _launch(environment, "commerce_backfill", south, MONTHS[0], MONTHS[0])
        killed_run, pid = _wait_for_new_step(instance, seen)
        time.sleep(3)  # the step's first requests are done; it waits on the slow page
        assert pid in pool
        os.kill(pid, signal.SIGKILL)
        ((run_id, status),) = _finished(launcher)
        assert (run_id, status) == (killed_run, "FAILURE")
        message = _failure(instance, run_id)
        assert "WorkerLostError: Worker exited prematurely: signal 9 (SIGKILL)" in message, message
        ((retry_id, retry_status),) = _finished(_launch(environment, "--retry", run_id))
        assert retry_status == "SUCCESS", _failure(instance, retry_id)
        assert _step_records(instance, retry_id)[0] <= {"w1@rutter-test", "w2@rutter-test"}

    engine = warehouse_engine(postgres_url)
    try:
        for cid in (north, south):
            for endpoint in endpoints_for(Family.COMMERCE):
                assert_matches_truth(engine, two_shops, cid, endpoint)
    finally:
        engine.dispose()
    assert two_shops.over_limit_count == 0, "a request went over the organisation's limit"
