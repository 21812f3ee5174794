"""A user's first real run, typed as a user types it: URL forms, configuration mistakes, the sandbox chosen,
optional connection details, a fresh warehouse, a killed sync, two syncs at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import endpoints_for
from rutter_pipeline.rutter.platforms import family_of
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline_tests.fixtures.databases import _fresh_database
from rutter_pipeline_tests.test_cli import REPO, cli

MONTHS_BACK = 2


def _months() -> list[str]:
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1
    return [f"{i // 12}-{i % 12 + 1:02d}" for i in range(index - MONTHS_BACK, index + 1)]


@pytest.fixture
def small_shop() -> Iterator[Sandbox]:
    """A Rutter-compatible server that is not the built-in sandbox: one small shop, one small ledger."""
    sandbox = Sandbox(seed=11, profile="empty")
    sandbox.add_connection("SHOPIFY", name="Shop", orders=30, customers=5)
    sandbox.add_connection("QUICKBOOKS", name="Books", invoices=10)
    with sandbox:
        yield sandbox


@pytest.fixture
def storage_url(postgres_url: str) -> Iterator[str]:
    yield from _fresh_database(postgres_url.rsplit("/", 1)[0], "postgres", mysql=False)


@pytest.fixture
def user_env(tmp_path: Path, postgres_url: str, storage_url: str, small_shop: Sandbox) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_", "DAGSTER_"))},
        "RUTTER_BASE_URL": small_shop.base_url,
        "RUTTER_CLIENT_ID": DEFAULT_CLIENT_ID,
        "RUTTER_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "WAREHOUSE_URL": postgres_url,
        "RUTTER_DAGSTER_STORAGE_URL": storage_url,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "RUTTER_PIPELINE_DATA_DIR": str(tmp_path / "data"),
        "RUTTER_HISTORY_START": _months()[0],
        "RUTTER_REFRESH_MARTS": "0",
    }


def loaded_months(url: str, sandbox: Sandbox) -> dict[tuple[str, str], set[str]]:
    """From the warehouse: the months each (connection, table) has a completed backfill of."""
    engine = sa.create_engine(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with engine.connect() as conn:
            streams = conn.execute(
                sa.text("SELECT connection_id, stream FROM rutter._sync_state WHERE stream LIKE 'backfill:%'")
            ).all()
    finally:
        engine.dispose()
    found: dict[tuple[str, str], set[str]] = {}
    for connection_id, stream in streams:
        _, table, month = stream.split(":")
        found.setdefault((connection_id, table), set()).add(month)
    return found


def assert_every_month_loaded(url: str, sandbox: Sandbox) -> None:
    found = loaded_months(url, sandbox)
    for connection in sandbox.connections():
        for endpoint in endpoints_for(family_of(connection["platform"])):
            assert found.get((connection["id"], endpoint.name)) == set(_months()), (
                connection["platform"],
                endpoint.name,
            )


def _with_scheme(url: str, scheme: str) -> str:
    return scheme + "://" + url.split("://", 1)[1]


def test_every_postgresql_url_form_syncs(user_env, postgres_url, small_shop) -> None:
    # One run at a time in this process: the point is the URL, not the parallel workers.
    for scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        env = {
            **user_env,
            "WAREHOUSE_URL": _with_scheme(postgres_url, scheme),
            "RUTTER_MAX_CONCURRENT_RUNS": "1",
            "RUTTER_DAGSTER_STORAGE_URL": _with_scheme(user_env["RUTTER_DAGSTER_STORAGE_URL"], scheme),
        }
        result = cli("sync", env=env)
        assert result.returncode == 0, (scheme, result.stdout + result.stderr)
    assert_every_month_loaded(postgres_url, small_shop)


def test_every_mysql_url_form_syncs(user_env, mysql_url) -> None:
    bare_mysql = mysql_url.split("?")[0]
    for scheme in ("mysql", "mysql+pymysql", "mariadb"):
        result = cli(
            "sync",
            env={**user_env, "WAREHOUSE_URL": _with_scheme(bare_mysql, scheme), "RUTTER_MAX_CONCURRENT_RUNS": "1"},
        )
        assert result.returncode == 0, (scheme, result.stdout + result.stderr)
    engine = sa.create_engine(mysql_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar_one() == 30
    finally:
        engine.dispose()


def test_a_fresh_warehouse_gets_the_full_backfill(user_env, postgres_url, small_shop) -> None:
    first = cli("sync", env=user_env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert_every_month_loaded(postgres_url, small_shop)
    # Same checkout, same DAGSTER_HOME and run history: a new, empty warehouse B.
    for warehouse_b in _fresh_database(postgres_url.rsplit("/", 1)[0], "postgres", mysql=False):
        second = cli("sync", env={**user_env, "WAREHOUSE_URL": warehouse_b})
        assert second.returncode == 0, second.stdout + second.stderr
        # Every month again: one run per connection covers its MONTHS_BACK + 1 months (the sensor's ranges).
        assert second.stdout.count("_backfill") >= 2
        assert_every_month_loaded(warehouse_b, small_shop)


def test_backfills_fall_back_when_connection_details_answer_404(user_env, postgres_url, small_shop) -> None:
    small_shop.serve_connection_details(False)
    result = cli("sync", env=user_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_every_month_loaded(postgres_url, small_shop)


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names(schema="rutter") + sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_real_warehouse_without_credentials_is_refused(user_env, postgres_url) -> None:
    env = {k: v for k, v in user_env.items() if k not in ("RUTTER_CLIENT_ID", "RUTTER_CLIENT_SECRET")}
    result = cli("sync", env=env)
    assert result.returncode == 2
    assert "RUTTER_CLIENT_ID and RUTTER_CLIENT_SECRET" in result.stderr and "--sandbox" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert _tables(postgres_url) == []


def test_the_sandbox_chosen_says_so_first_and_marks_its_rows(user_env, postgres_url) -> None:
    env = {
        k: v for k, v in user_env.items() if k not in ("RUTTER_CLIENT_ID", "RUTTER_CLIENT_SECRET", "RUTTER_BASE_URL")
    }
    env["RUTTER_HISTORY_START"] = _months()[-1]
    result = cli("sync", "--sandbox", env=env)
    assert result.stdout.splitlines()[0].startswith("Using the built-in Rutter sandbox (chosen with --sandbox)")
    assert result.returncode in (0, 1), result.stdout + result.stderr  # the demo's NetSuite needs re-auth
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            sources = conn.execute(sa.text("SELECT DISTINCT source FROM rutter._connections")).scalars().all()
    finally:
        engine.dispose()
    assert sources == ["sandbox"]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("WAREHOUSE_URL", "not a url", "WAREHOUSE_URL is not a database URL"),
        ("WAREHOUSE_URL", "sqlite:///x.db", "WAREHOUSE_URL has the scheme sqlite://"),
        ("WAREHOUSE_URL", "postgresql://etl@127.0.0.1:1/wh", "WAREHOUSE_URL: cannot connect to"),
        ("WAREHOUSE_URL", "mysql://root:wrong-password@127.0.0.1:3306/mysql", "WAREHOUSE_URL: cannot connect to"),
        ("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/no_such_db_here", "WAREHOUSE_URL: cannot connect"),
        ("RUTTER_DAGSTER_STORAGE_URL", "postgresql://x:pw@127.0.0.1:1/d", "RUTTER_DAGSTER_STORAGE_URL: cannot"),
        ("RUTTER_DAGSTER_STORAGE_URL", "mysql://root@127.0.0.1/d", "RUTTER_DAGSTER_STORAGE_URL has the scheme"),
        ("RUTTER_HISTORY_START", "2024-13", "RUTTER_HISTORY_START must be YYYY-MM"),
        ("RUTTER_INCREMENTAL_CRON", "every hour", "RUTTER_INCREMENTAL_CRON must be a 5-field cron"),
        ("RUTTER_MAX_CONCURRENT_RUNS", "four", "RUTTER_MAX_CONCURRENT_RUNS must be a positive whole number"),
        ("RUTTER_RATE_LIMIT", "fast", "RUTTER_RATE_LIMIT must be"),
        ("RUTTER_SANDBOX", "perhaps", "RUTTER_SANDBOX must be 1/true/yes"),
        ("RUTTER_BASE_URL", "ftp://rutter", "RUTTER_BASE_URL must be an http(s) URL"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(user_env, variable, value, says) -> None:
    result = cli("sync", env={**user_env, variable: value}, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "wrong-password" not in result.stderr


def _start_sync(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rutter_pipeline.app.cli", "sync"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_run_line(sync: subprocess.Popen) -> str:
    """The first line `sync` prints about a run (the line saying it parses the dbt project comes before)."""
    line = sync.stdout.readline()
    if line.startswith("Parsing the dbt project"):
        line = sync.stdout.readline()
    return line


def test_a_killed_sync_is_redone_and_a_second_sync_waits_its_turn(user_env, postgres_url, small_shop) -> None:
    env = {**user_env, "RUTTER_MAX_CONCURRENT_RUNS": "1"}
    # Slow pages, so the first sync is surely in the middle of a month when it is killed.
    small_shop.inject_fault("slow", count=400, delay_s=0.05)
    first = _start_sync(env)
    try:
        line = _first_run_line(first)
        assert "_backfill" in line, line + first.stderr.read()  # one month done, the next one running
        second = cli("sync", env=env, timeout=120)
        assert second.returncode == 1
        assert "another rutter-pipeline sync" in second.stderr and "Traceback" not in second.stderr
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        first.stdout.close()
        first.stderr.close()
    small_shop.serve_connection_details(True)
    again = cli("sync", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "marked failed" in again.stdout
    assert_every_month_loaded(postgres_url, small_shop)
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM rutter.orders")).scalar_one() == 30
    finally:
        engine.dispose()


def test_a_dropped_database_connection_is_one_clear_line(user_env, postgres_url, small_shop) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    small_shop.inject_fault("slow", count=400, delay_s=0.05)
    sync = _start_sync({**user_env, "RUTTER_MAX_CONCURRENT_RUNS": "1"})
    admin = sa.create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        assert "_backfill" in _first_run_line(sync)
        with admin.connect() as conn:
            conn.execute(sa.text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            )
        out, err = sync.communicate(timeout=300)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        admin.dispose()
        if sync.poll() is None:
            sync.kill()
    assert sync.returncode == 1, out + err
    assert "Traceback" not in err and "PendingRollbackError" not in err, err
    assert "run `rutter-pipeline sync` again" in err or "failed" in err, err
