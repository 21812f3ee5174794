"""A pull killed midway (between batches or inside one) and run again converges to the truth."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rutter_pipeline.sync import backfill, incremental
from rutter_pipeline.warehouse.tables import raw_table
from rutter_pipeline_tests.sync.truth import assert_matches_truth


def start_worker(sandbox, database_url: str, *, connection_id: str, endpoint: str, mode: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        RUTTER_BASE_URL=sandbox.base_url,
        RUTTER_CLIENT_ID=DEFAULT_CLIENT_ID,
        RUTTER_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
        WAREHOUSE_URL=database_url,
        CRASH_CONNECTION_ID=connection_id,
        CRASH_ENDPOINT=endpoint,
        CRASH_BATCH_SIZE="100",
        CRASH_MODE=mode,
    )
    return subprocess.Popen([sys.executable, "-m", "rutter_pipeline_tests.sync.crash_worker"], env=env)


def row_count(engine, endpoint) -> int:
    with engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).select_from(raw_table(endpoint))).scalar_one()


def wait_for_rows(engine, endpoint, *, at_least: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while row_count(engine, endpoint) < at_least:
        assert process.poll() is None, "the worker finished before it could be killed"
        assert time.monotonic() < deadline, "the worker wrote nothing in time"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("connection_platform", "endpoint_name", "mode"),
    [("SHOPIFY", "orders", "backfill"), ("QUICKBOOKS", "accounting_invoices", "incremental")],
)
def test_killed_pull_converges_on_rerun(
    sandbox, client, pg_engine, postgres_url, connection_platform, endpoint_name, mode
):
    endpoint = get(endpoint_name)
    connection = next(c for c in client.list_connections() if c.platform == connection_platform)
    # Slow pages keep the worker busy long enough to be killed at a chosen moment.
    sandbox.inject_fault("slow", count=10_000, path=f"/versioned{endpoint.path}", delay_s=0.05)

    between_batches = start_worker(
        sandbox, postgres_url, connection_id=connection.id, endpoint=endpoint_name, mode=mode
    )
    wait_for_rows(pg_engine, endpoint, at_least=100, process=between_batches)
    between_batches.send_signal(signal.SIGKILL)
    between_batches.wait()

    inside_a_batch = start_worker(sandbox, postgres_url, connection_id=connection.id, endpoint=endpoint_name, mode=mode)
    time.sleep(0.8)
    inside_a_batch.send_signal(signal.SIGKILL)
    inside_a_batch.wait()

    sandbox._service.faults.clear()
    if mode == "backfill":
        backfill(client=client, engine=pg_engine, connection=connection, endpoint=endpoint, window=Window(None, None))
    else:
        incremental(client=client, engine=pg_engine, connection=connection, endpoint=endpoint)
    assert_matches_truth(pg_engine, sandbox, connection.id, endpoint)
