"""The sensor's backfill through the daemon (`rutter-pipeline dev`) against `rutter-pipeline sync`, same machine.

    .venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_daemon_backfill.py -s

Both start from nothing on the default sandbox (three ready connections) with `BENCH_MONTHS` months of history
(default 6): `dev` is started and left alone until every month of every ready connection has a successful
backfill (the sensor requests them, the queue launches them); `sync` is run once. Each variant gets its own
warehouse and Dagster storage databases on the test PostgreSQL server, so the runs' times are read from
Dagster's own `runs` table. Reported per variant: wall time from the command's start until the last backfill
run ended, the backfill runs' span (first run started → last run ended), runs per minute over that span, and
the median run time (start → end of one run).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from rutter_pipeline_tests.fixtures.processes import free_port, successful_sync

REPO = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432")
MONTHS = int(os.environ.get("BENCH_MONTHS", "6"))
READY_CONNECTIONS = 3  # the default sandbox: Shopify, QuickBooks, Xero

pytestmark = pytest.mark.benchmark

BACKFILL_RUNS = """
select r.status, r.start_time, r.end_time
from runs r join run_tags t on t.run_id = r.run_id
where t.key = 'rutter/pull' and t.value = 'backfill'
"""


def _history_start() -> str:
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1 - (MONTHS - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _figures(name: str, storage: str, started: float, *, partitions: int) -> dict[str, float]:
    engine = sa.create_engine(storage)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(BACKFILL_RUNS)).all()
    engine.dispose()
    done = [r for r in rows if r.status == "SUCCESS"]
    first = min(r.start_time for r in done)
    last = max(r.end_time for r in done)
    span = last - first
    figures = {
        "runs": len(done),
        "partitions": partitions,
        "wall_s": round(last - started, 1),
        "span_s": round(span, 1),
        "partitions_per_min": round(partitions / span * 60, 1),
        "median_run_s": round(statistics.median(r.end_time - r.start_time for r in done), 1),
    }
    print(f"{name}: {figures}")
    return figures


def _backfilled(storage: str, *, partitions: int) -> bool:
    """Whether every (connection, month) has a materialization of one Rutter asset (orders or invoices)."""
    engine = sa.create_engine(storage)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                sa.text(
                    "select count(distinct (asset_key, partition)) from event_logs "
                    "where dagster_event_type = 'ASSET_MATERIALIZATION' and asset_key in "
                    '(\'["rutter", "commerce", "orders"]\', \'["rutter", "accounting", "invoices"]\')'
                )
            ).scalar()
            pending = conn.execute(
                sa.text("select count(*) from runs where status in ('QUEUED', 'NOT_STARTED', 'STARTING', 'STARTED')")
            ).scalar()
    except sa.exc.ProgrammingError:  # the schema is created by the first process to start
        return False
    finally:
        engine.dispose()
    return count >= partitions and pending == 0


def test_daemon_backfill_against_sync(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    names = [f"rp_bench_{v}_{suffix}" for v in ("dev_wh", "dev_dg", "sync_wh", "sync_dg")]
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_", "DAGSTER_"))}
    base.update(RUTTER_HISTORY_START=_history_start(), RUTTER_MAX_CONCURRENT_RUNS="4")
    partitions = MONTHS * READY_CONNECTIONS
    try:
        storage = f"{SERVER}/{names[1]}"
        env = base | {
            "WAREHOUSE_URL": f"{SERVER}/{names[0]}",
            "RUTTER_DAGSTER_STORAGE_URL": storage,
            "DAGSTER_HOME": str(tmp_path / "dev_home"),
        }
        started = time.time()
        with (tmp_path / "dev.log").open("wb") as log:
            dev = subprocess.Popen(
                [sys.executable, "-m", "rutter_pipeline.app.cli", "dev", "--port", str(free_port())],
                cwd=tmp_path,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 3600
            while not _backfilled(storage, partitions=partitions):
                assert dev.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the sensor's backfill did not finish within an hour"
                time.sleep(2)
        finally:
            dev.send_signal(signal.SIGTERM)
            dev.wait(timeout=120)
        daemon = _figures("dev (sensor → queue → daemon)", storage, started, partitions=partitions)

        storage = f"{SERVER}/{names[3]}"
        env = base | {
            "WAREHOUSE_URL": f"{SERVER}/{names[2]}",
            "RUTTER_DAGSTER_STORAGE_URL": storage,
            "DAGSTER_HOME": str(tmp_path / "sync_home"),
            "RUTTER_REFRESH_MARTS": "0",
        }
        started = time.time()
        successful_sync(env, cwd=tmp_path, timeout=3600)
        headless = _figures("sync (in process)", storage, started, partitions=partitions)
        print(f"dev / sync partitions per minute: {daemon['partitions_per_min'] / headless['partitions_per_min']:.2f}")
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
