"""A killed dbt build does not leave its queries running in PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from rutter_pipeline.defs.dbt import DBT_PROJECT_DIR, dbt_env


def _dbt_queries(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "select query from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() "
                    "and application_name = 'dbt' and state = 'active'"
                )
            ).scalars()
        )


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_killed_dbt_stops_its_query_in_the_server(postgres_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(postgres_url)
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "show",
        "--inline",
        "select pg_sleep(120) as slow",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(tmp_path),
        "--log-path",
        str(tmp_path),
    ]
    env = {"PATH": os.environ["PATH"], "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **dbt_env(postgres_url)}
    dbt = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: any("pg_sleep" in q for q in _dbt_queries(engine)), timeout=60)
        dbt.send_signal(signal.SIGKILL)
        dbt.wait()
        assert _wait_for(lambda: not _dbt_queries(engine), timeout=6), _dbt_queries(engine)
    finally:
        dbt.kill()
        engine.dispose()
