"""`rutter-pipeline sync` on the default sandbox, measured; then the UI on its instance, photographed.

    .venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_dagster_sync.py -s

Reports the default sync's wall time, the per-run Dagster overhead (run time minus the sync engine's own
seconds), a second (incremental-only) sync's time, and writes screenshots of the asset graph and of a partition
view into docs/screenshots/ when /usr/bin/chromium is installed (`apt-get install -y chromium`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from rutter_pipeline_tests.fixtures.processes import CHROMIUM, CHROMIUM_ARGS, REPO, dagster_webserver, successful_sync

SCREENSHOTS = REPO / "docs" / "screenshots"
SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432")

pytestmark = pytest.mark.benchmark


def _database(admin: sa.Engine, name: str) -> str:
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    return f"{SERVER}/{name}"


def _sync(env: dict[str, str]) -> tuple[float, str]:
    started = time.monotonic()
    output = successful_sync(env)
    return time.monotonic() - started, output


def _screenshot(url: str, target: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM,
                *CHROMIUM_ARGS,
                f"--user-data-dir={profile}",
                "--virtual-time-budget=20000",
                f"--screenshot={target}",
                "--window-size=1400,900",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    print(f"screenshot {target.relative_to(REPO)}")


def test_default_sync_and_ui(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    names = [f"rp_bench_wh_{suffix}", f"rp_bench_dg_{suffix}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(
        WAREHOUSE_URL=_database(admin, names[0]),
        RUTTER_DAGSTER_STORAGE_URL=_database(admin, names[1]),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        RUTTER_MAX_CONCURRENT_RUNS="4",
    )
    try:
        first, output = _sync(env)
        overhead = re.search(r"(\d+) runs in .*overhead per backfill run ([\d.]+)s", output)
        print(output[output.index("| connection") :])
        print(f"default sync: {first:.1f}s wall, {overhead[1]} runs, {overhead[2]}s Dagster overhead per run")
        second, _ = _sync(env)
        print(f"second sync (incremental only): {second:.1f}s wall")

        if not Path(CHROMIUM).exists():
            print("chromium not installed: no screenshots")
            return
        with dagster_webserver(env) as url:
            # The UI greets new local users with a newsletter dialog; mark it seen as a user's "Skip" would.
            requests.post(f"{url}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=30).raise_for_status()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            _screenshot(f"{url}/asset-groups", SCREENSHOTS / "asset-graph.png")
            _screenshot(f"{url}/assets/rutter/commerce/orders?view=partitions", SCREENSHOTS / "orders-partitions.png")
            _screenshot(f"{url}/runs", SCREENSHOTS / "runs.png")
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
        shutil.rmtree(tmp_path, ignore_errors=True)
