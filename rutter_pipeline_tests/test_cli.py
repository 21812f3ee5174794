"""`rutter-pipeline` end to end: real processes, the sandbox over HTTP, PostgreSQL, a Dagster instance on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import requests
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import ENDPOINTS, Kind, endpoints_for
from rutter_pipeline.rutter.platforms import family_of
from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, sign
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.warehouse.rows import strip_nuls
from rutter_pipeline.warehouse.tables import raw_table
from rutter_pipeline_tests.fixtures.databases import _fresh_database
from rutter_pipeline_tests.fixtures.processes import free_port

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rutter_pipeline.app.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def dagster_storage_url(postgres_url: str) -> Iterator[str]:
    """A second fresh database on the same server, for Dagster's run and event storage."""
    yield from _fresh_database(postgres_url.rsplit("/", 1)[0], "postgres", mysql=False)


@pytest.fixture
def shop_and_books() -> Iterator[Sandbox]:
    sandbox = Sandbox(seed=5, profile="empty")
    sandbox.add_connection("SHOPIFY", name="Shop", orders=80, customers=20)
    sandbox.add_connection("QUICKBOOKS", name="Books", invoices=40)
    sandbox.add_connection("AMAZON", name="Not ready", ready=False)
    with sandbox:
        yield sandbox


@pytest.fixture
def env(tmp_path: Path, postgres_url: str, dagster_storage_url: str, shop_and_books: Sandbox) -> dict[str, str]:
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 3
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_", "DAGSTER_"))},
        "RUTTER_BASE_URL": shop_and_books.base_url,
        "RUTTER_CLIENT_ID": DEFAULT_CLIENT_ID,
        "RUTTER_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "WAREHOUSE_URL": postgres_url,
        "RUTTER_DAGSTER_STORAGE_URL": dagster_storage_url,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "RUTTER_PIPELINE_DATA_DIR": str(tmp_path / "data"),
        "RUTTER_HISTORY_START": f"{index // 12}-{index % 12 + 1:02d}",
    }


def warehouse_rows(url: str) -> dict[str, dict[str, tuple]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                e.name: {
                    row.id: (row.connection_id, row.data, row._deleted_at, row._synced_at)
                    for row in conn.execute(sa.select(raw_table(e)))
                }
                for e in ENDPOINTS
            }
    finally:
        engine.dispose()


def assert_equals_truth(rows: dict[str, dict[str, tuple]], sandbox: Sandbox) -> None:
    for connection in sandbox.connections():
        if connection["status"] != "active":
            continue
        for endpoint in endpoints_for(family_of(connection["platform"])):
            if endpoint.kind is Kind.REPORT:
                continue  # statements exist per month: only the partitions' months are asked for
            truth = {o["id"]: strip_nuls(o)[0] for o in sandbox.truth(connection["id"], endpoint.path)}
            live = {i: r[1] for i, r in rows[endpoint.name].items() if r[0] == connection["id"] and r[2] is None}
            assert live == truth, (connection["platform"], endpoint.path)


def test_sync_backfills_then_follows_changes_and_deletes(env, shop_and_books, postgres_url, monkeypatch) -> None:
    sandbox = shop_and_books
    first = cli("sync", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "commerce_backfill" in first.stdout and "accounting_backfill" in first.stdout
    assert "is not ready yet" in first.stdout  # a waiting connection is no failure
    assert "dbt marts refreshed" in first.stdout
    # The slow, silent dbt build is announced before it starts.
    assert first.stdout.index("Building the dbt marts") < first.stdout.index("dbt marts refreshed")
    env["RUTTER_REFRESH_MARTS"] = "0"  # the marts are tested on their own; keep the next syncs quick
    assert_equals_truth(warehouse_rows(postgres_url), sandbox)
    assert recorded_connections(postgres_url) == {
        (c["id"], c["platform"]) for c in sandbox.connections()
    }  # the not-ready one too

    shop, books = sandbox.connection_id("SHOPIFY"), sandbox.connection_id("QUICKBOOKS")
    order = next(iter(sandbox.truth(shop, "/orders")))
    sandbox.update(shop, "/orders", order["id"], {"note": "gift wrap"})
    sandbox.create(books, "/accounting/invoices")
    invoices = list(sandbox.truth(books, "/accounting/invoices"))
    sandbox.delete(books, "/accounting/invoices", invoices[0]["id"])
    sandbox.refresh()

    second = cli("sync", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "_backfill" not in second.stdout  # every month is loaded already: only incremental runs
    rows = warehouse_rows(postgres_url)
    assert_equals_truth(rows, sandbox)
    assert rows["accounting_invoices"][invoices[0]["id"]][2] is not None  # kept, marked deleted

    third = cli("sync", env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    assert warehouse_rows(postgres_url) == rows

    # The runs went through Dagster and are recorded in DAGSTER_HOME's instance, where the UI finds them.
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    monkeypatch.setenv("RUTTER_DAGSTER_STORAGE_URL", env["RUTTER_DAGSTER_STORAGE_URL"])
    monkeypatch.setenv("RUTTER_MAX_CONCURRENT_RUNS", "4")
    with dg.DagsterInstance.get() as instance:
        backfills = instance.get_runs(dg.RunsFilter(tags={"rutter/pull": "backfill"}))
        incrementals = instance.get_runs(dg.RunsFilter(tags={"rutter/pull": "incremental"}))
        orders = instance.get_materialized_partitions(dg.AssetKey(["rutter", "commerce", "orders"]))
        invoice_months = instance.get_materialized_partitions(dg.AssetKey(["rutter", "accounting", "invoices"]))
    # One run per connection covers its three months, and each month is a materialized partition of its own.
    assert len(backfills) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in backfills)
    assert len({key for key in orders if key.startswith(f"{shop}|")}) == 3
    assert len({key for key in invoice_months if key.startswith(f"{books}|")}) == 3
    assert len(incrementals) == 2 * 3
    assert_no_secret_stored(
        env["RUTTER_DAGSTER_STORAGE_URL"],
        postgres_url,
        secrets=[DEFAULT_CLIENT_SECRET, *(c["access_token"] for c in sandbox.connections())],
    )


def recorded_connections(url: str) -> set[tuple[str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {tuple(row) for row in conn.execute(sa.text("SELECT id, platform FROM rutter._connections"))}
    finally:
        engine.dispose()


def assert_no_secret_stored(*urls: str, secrets: list[str]) -> None:
    """No table of Dagster's storage or of the warehouse holds the client secret or an access token."""
    for url in urls:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                tables = conn.execute(
                    sa.text(
                        "SELECT table_schema, table_name FROM information_schema.tables "
                        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'"
                    )
                )
                for schema, table in tables.all():
                    for secret in secrets:
                        found = conn.execute(
                            sa.text(f'SELECT count(*) FROM "{schema}"."{table}" AS t WHERE t::text LIKE :pattern'),
                            {"pattern": f"%{secret}%"},
                        ).scalar_one()
                        assert found == 0, f"{schema}.{table} holds a secret"
        finally:
            engine.dispose()


def test_sync_names_what_failed_without_leaking_the_secret(env) -> None:
    env = {**env, "RUTTER_CLIENT_SECRET": "wrong-secret-value"}
    result = cli("sync", env=env)
    assert result.returncode == 1
    assert "INVALID_CREDENTIALS" in result.stderr and "cannot reach Rutter" in result.stderr
    assert "wrong-secret-value" not in result.stdout + result.stderr


def test_malformed_environment_exits_2_naming_the_variable(env) -> None:
    result = cli("sync", env={**env, "RUTTER_INCREMENTAL_CRON": "hourly"})
    assert result.returncode == 2
    assert "RUTTER_INCREMENTAL_CRON" in result.stderr


def test_bad_arguments_exit_2() -> None:
    result = cli("sandbox", "--port", "99999", env=dict(os.environ))
    assert result.returncode == 2 and "65535" in result.stderr
    assert cli("sandbox", "--port", "8000", "--big-orders", "-5", env=dict(os.environ)).returncode == 2
    assert cli("launch", env=dict(os.environ)).returncode == 2


@contextmanager
def webhooks_command(env: dict[str, str], *arguments: str) -> Iterator[str]:
    """`rutter-pipeline webhooks` on a free port until the block ends; yields the URL it says it receives at."""
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "rutter_pipeline.app.cli", "webhooks", "--port", str(port), *arguments],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert f"127.0.0.1:{port}" in receiver.stdout.readline()
        yield f"http://127.0.0.1:{port}/"
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)


def post_signed(url: str, event: dict) -> dict:
    """POST the event signed with the sandbox's secret, as the sandbox sends its webhooks; the answer's JSON."""
    body = json.dumps(event).encode()
    headers = {SIGNATURE_HEADER: sign(body, DEFAULT_CLIENT_SECRET), "Content-Type": "application/json"}
    return requests.post(url, data=body, timeout=30, headers=headers).json()


def test_webhooks_command_applies_signed_commerce_deletions(env, postgres_url) -> None:
    deletion = {
        "type": "ORDER",
        "code": "ORDER_DELETED",
        "connection_id": "c-1",
        "access_token": "t",
        "order": {"id": "order-1"},
    }
    with webhooks_command(env) as url:
        assert post_signed(url, deletion) == {"status": "deleted"}
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            deleted = conn.execute(sa.text("SELECT _deleted_at FROM rutter.orders WHERE id = 'order-1'")).scalar_one()
    finally:
        engine.dispose()
    assert deleted is not None


def test_webhooks_without_a_client_secret_refuse_to_start_unless_the_sandbox_is_chosen(postgres_url) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_"))},
        "WAREHOUSE_URL": postgres_url,
    }
    refused = cli("webhooks", "--port", str(free_port()), env=env, timeout=60)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "RUTTER_CLIENT_SECRET" in refused.stderr and "not set" in refused.stderr
    readiness = {"type": "CONNECTION", "code": "INITIAL_UPDATE", "connection_id": "c-1"}
    with webhooks_command(env, "--sandbox") as url:
        assert post_signed(url, readiness) == {"status": "queued"}


def test_sync_into_mysql_loads_the_raw_tables_and_leaves_out_the_marts(env, shop_and_books, mysql_url) -> None:
    result = cli("sync", env={**env, "WAREHOUSE_URL": mysql_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refresh_marts" not in result.stdout
    engine = sa.create_engine(mysql_url)
    try:
        with engine.connect() as conn:
            orders = conn.execute(sa.text("SELECT count(*) FROM orders WHERE _deleted_at IS NULL")).scalar_one()
            platforms = {row[0] for row in conn.execute(sa.text("SELECT platform FROM _connections"))}
    finally:
        engine.dispose()
    assert orders == len(list(shop_and_books.truth(shop_and_books.connection_id("SHOPIFY"), "/orders")))
    assert platforms == {"SHOPIFY", "QUICKBOOKS", "AMAZON"}
