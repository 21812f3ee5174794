"""`rutter-pipeline backfill` (chosen months, recorded as a Dagster backfill) and `rutter-pipeline db`."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.partitions import CONNECTION
from rutter_pipeline_tests.test_cli import cli, dagster_storage_url, env, shop_and_books  # noqa: F401 - fixtures


def _months(env: dict[str, str]) -> list[str]:
    year, month = map(int, env["RUTTER_HISTORY_START"].split("-"))
    return [f"{(year * 12 + month - 1 + i) // 12}-{(year * 12 + month - 1 + i) % 12 + 1:02d}" for i in range(3)]


def test_backfill_runs_exactly_the_chosen_months_as_a_dagster_backfill(
    env, shop_and_books, postgres_url, monkeypatch
) -> None:
    shop = shop_and_books.connection_id("SHOPIFY")
    first, second, third = _months(env)
    done = cli(
        "backfill", "--connection", shop, "--from", first, "--to", second, "--asset", "rutter/commerce/orders", env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr

    for key in ("DAGSTER_HOME", "RUTTER_DAGSTER_STORAGE_URL"):
        monkeypatch.setenv(key, env[key])
    with dg.DagsterInstance.get() as instance:
        [backfill] = instance.get_backfills()
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
        assert backfill.status.value == "COMPLETED_SUCCESS"
        assert sorted(r.tags["dagster/partition"] for r in runs) == [f"{shop}|{first}", f"{shop}|{second}"]
        assert all(r.is_success and r.asset_selection == {dg.AssetKey(["rutter", "commerce", "orders"])} for r in runs)
        assert {r.tags[f"dagster/partition/{CONNECTION}"] for r in runs} == {shop}
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        orders = conn.execute(sa.text("select count(*) from rutter.orders")).scalar_one()
        products = conn.execute(sa.text("select count(*) from rutter.products")).scalar_one()
    engine.dispose()
    assert orders > 0 and products == 0  # only the chosen asset
    assert third not in done.stdout


def test_backfill_arguments_are_checked_with_one_line_errors(env, shop_and_books) -> None:
    shop = shop_and_books.connection_id("SHOPIFY")
    first, second, _ = _months(env)
    cases = {
        ("--connection", "nope", "--from", first, "--to", second): "unknown connection 'nope'",
        ("--connection", shop, "--from", "2025-13", "--to", second): "--from must be a month as YYYY-MM",
        ("--connection", shop, "--from", second, "--to", first): f"--from {second} is after --to {first}",
        ("--connection", shop, "--from", "1999-01", "--to", second): "outside the partitions",
        (
            "--connection",
            shop,
            "--from",
            first,
            "--to",
            second,
            "--asset",
            "rutter/accounting/invoices",
        ): "unknown asset rutter/accounting/invoices",
    }
    for args, message in cases.items():
        done = cli("backfill", *args, env=env)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_db_opens_psql_on_the_embedded_postgresql(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_", "DAGSTER_"))}
    env["RUTTER_PIPELINE_DATA_DIR"] = str(tmp_path / "data")
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "rutter_pipeline.app.cli", "db"],
        env=env,
        input="select 40 + 2;\n",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "42" in done.stdout
    printed = cli("db", "--print", env=env, timeout=180)
    assert printed.returncode == 0 and f"-h {tmp_path / 'data' / 'pgdata'}" in printed.stdout
    # The server stopped with the last command that used it.
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists()
