"""The dbt assets in Dagster: lineage from the Rutter assets, dbt tests as checks, a real materialization, the
sensor that refreshes the marts after syncs, and the manifest prepared without a manual `dbt parse`."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster_dbt import DbtProject

from rutter_pipeline.defs import build_definitions
from rutter_pipeline.defs import dbt as dbt_defs
from rutter_pipeline.defs.assets import rutter_assets
from rutter_pipeline.defs.jobs import PULL_TAG
from rutter_pipeline.defs.partitions import connection_month_partitions
from rutter_pipeline.defs.resources import WarehouseResource
from rutter_pipeline.rutter.catalog import ENDPOINTS
from rutter_pipeline.settings import Settings
from rutter_pipeline.warehouse.schema import upgrade


def _graph() -> dg.Definitions:
    grid = connection_month_partitions(date(2024, 1, 1))
    unused = dg.ResourceDefinition.none_resource()
    return dg.Definitions(
        assets=[*rutter_assets(grid), dbt_defs.underwriting_marts()],
        resources={"rutter": unused, "warehouse": unused, "dbt": unused},
    )


def test_dbt_assets_are_downstream_of_the_rutter_assets() -> None:
    graph = _graph().resolve_asset_graph()
    for endpoint in ENDPOINTS:
        rutter_key = dg.AssetKey(["rutter", endpoint.family.value, endpoint.object_name])
        staging_key = dg.AssetKey(["staging", f"stg_rutter__{endpoint.name}"])
        assert graph.get(rutter_key).is_materializable, rutter_key
        assert graph.get(staging_key).parent_keys == {rutter_key}
    upstream_of_orders = graph.get(dg.AssetKey(["marts", "fct_orders"])).parent_keys
    assert dg.AssetKey(["staging", "stg_rutter__orders"]) in upstream_of_orders
    downstream = graph.get(dg.AssetKey(["rutter", "commerce", "orders"])).child_keys
    # the incremental order models also read the raw table, for the orders written since their last build
    incremental = {
        ("intermediate", "int_order_lines_unnested"),
        ("intermediate", "int_refunds_extracted"),
        ("marts", "fct_orders"),
        ("marts", "fct_refunds"),
    }
    assert downstream == {dg.AssetKey(["staging", "stg_rutter__orders"]), *map(dg.AssetKey, map(list, incremental))}


def test_dbt_tests_become_asset_checks() -> None:
    assets = dbt_defs.underwriting_marts()
    checks = {(key.asset_key.to_user_string(), key.name) for key in assets.check_keys}
    assert ("marts/fct_orders", "unique_fct_orders_order_id") in checks
    assert ("marts/fct_ar_aging", "not_null_fct_ar_aging_connection_id") in checks
    assert len(checks) >= 150


def test_materializing_the_marts_runs_dbt_build_against_the_warehouse(postgres_url: str) -> None:
    upgrade(sa.create_engine(postgres_url))
    result = dg.materialize(
        [dbt_defs.underwriting_marts()],
        resources={"dbt": dbt_defs.dbt_resource(), "warehouse": WarehouseResource(url=postgres_url)},
        raise_on_error=False,
    )
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"marts/fct_orders", "marts/fct_ar_aging", "staging/stg_rutter__orders"} <= materialized
    checks = result.get_asset_check_evaluations()
    assert len(checks) >= 150 and all(c.passed for c in checks)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from analytics.fct_commerce_monthly_sales")).scalar_one() == 0

    # nothing written since: the next refresh builds nothing (decided from the warehouse, not run history)
    again = dg.materialize(
        [dbt_defs.underwriting_marts()],
        resources={"dbt": dbt_defs.dbt_resource(), "warehouse": WarehouseResource(url=postgres_url)},
        raise_on_error=False,
    )
    assert again.success
    assert again.get_asset_materialization_events() == [] and again.get_asset_check_evaluations() == []
    # any write to a raw table (here a soft delete, as a webhook makes) calls for a build again
    built_from = dbt_defs.last_built_from(engine)
    assert built_from == dbt_defs.sources_state(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into rutter.customers (id, connection_id, data, _deleted_at, _synced_at) "
                "values ('c1', 'conn', '{}', now(), now())"
            )
        )
    assert dbt_defs.sources_state(engine) != built_from


@dg.op
def _pull() -> None:
    """Stands in for a sync run: only its tags and status matter to the sensor."""


_sync_job = dg.GraphDefinition(name="sync_stand_in", node_defs=[_pull]).to_job()


def _evaluate(instance: dg.DagsterInstance, cursor: str | None) -> tuple[object, str | None]:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = dbt_defs.refresh_marts_sensor(context)
    return result, context.cursor


def test_sensor_requests_one_refresh_per_burst_of_successful_syncs() -> None:
    with dg.instance_for_test() as instance:
        result, cursor = _evaluate(instance, None)
        assert isinstance(result, dg.SkipReason)

        for _ in range(2):
            assert _sync_job.execute_in_process(instance=instance, tags={PULL_TAG: "backfill"}).success
        result, cursor = _evaluate(instance, None)
        assert isinstance(result, dg.RunRequest) and cursor is not None

        again, same_cursor = _evaluate(instance, cursor)
        assert isinstance(again, dg.SkipReason) and same_cursor == cursor

        assert _sync_job.execute_in_process(instance=instance, tags={PULL_TAG: "incremental"}).success
        queued = instance.create_run_for_job(_sync_job, tags={PULL_TAG: "incremental"})
        waiting, _ = _evaluate(instance, cursor)
        assert isinstance(waiting, dg.SkipReason) and "waiting for 1 sync run" in waiting.skip_message

        instance.report_run_canceled(queued)
        after, new_cursor = _evaluate(instance, cursor)
        assert isinstance(after, dg.RunRequest) and float(new_cursor) > float(cursor)
        assert after.run_key != result.run_key


def test_sensor_ignores_runs_that_are_not_syncs() -> None:
    with dg.instance_for_test() as instance:
        assert _sync_job.execute_in_process(instance=instance).success
        result, _ = _evaluate(instance, None)
        assert isinstance(result, dg.SkipReason)


def test_preparing_parses_the_project_as_it_is_now(tmp_path) -> None:
    """dagster-dbt's preparation writes the manifest of the project as it is, a model added included."""
    copy = shutil.copytree(dbt_defs.DBT_PROJECT_DIR, tmp_path / "dbt", ignore=shutil.ignore_patterns("target", "logs"))
    (copy / "models" / "marts" / "fct_added_now.sql").write_text("select 1 as one\n")
    project = DbtProject(project_dir=copy, profiles_dir=copy)
    assert not project.manifest_path.exists()
    assert dbt_defs.prepare_dbt_project(project) == project.manifest_path
    manifest = project.manifest_path.read_text()
    assert '"model.rutter_underwriting.fct_orders"' in manifest
    assert '"model.rutter_underwriting.fct_added_now"' in manifest


def test_the_refresh_job_selects_exactly_the_dbt_assets() -> None:
    defs = build_definitions(Settings.from_env({"RUTTER_HISTORY_START": "2024-01"}))
    job = defs.resolve_job_def(dbt_defs.refresh_marts_job.name)
    assert set(job.asset_layer.selected_asset_keys) == set(dbt_defs.underwriting_marts().keys)


def test_a_mysql_warehouse_builds_definitions_without_dbt(monkeypatch) -> None:
    """The marts are left out on MySQL, so no dbt runs and no manifest is read when its definitions load."""

    def no_dbt(*_):
        raise AssertionError("dbt was prepared for a MySQL warehouse")

    monkeypatch.setattr(dbt_defs._preparer, "prepare", no_dbt)
    defs = build_definitions(Settings.from_env({"WAREHOUSE_URL": "mysql://root@127.0.0.1/wh", "RUTTER_SANDBOX": "1"}))
    keys = {spec.key.to_user_string() for spec in defs.resolve_all_asset_specs()}
    assert "rutter/commerce/orders" in keys and not any(key.startswith("marts/") for key in keys)
    assert dbt_defs.refresh_marts_job.name not in {job.name for job in defs.resolve_all_job_defs()}


def test_dbt_env_from_url_reads_host_port_user_password_and_database() -> None:
    env = dbt_defs.dbt_env_from_url("postgresql+psycopg2://app:s3cret@db.example:6543/warehouse")
    assert env == {
        "RUTTER_DBT_HOST": "db.example",
        "RUTTER_DBT_PORT": "6543",
        "RUTTER_DBT_USER": "app",
        "RUTTER_DBT_PASSWORD": "s3cret",
        "RUTTER_DBT_DBNAME": "warehouse",
    }
    socket = dbt_defs.dbt_env_from_url(
        sa.URL.create(
            "postgresql+psycopg2",
            username="postgres",
            database="rutter",
            query={"host": "/tmp/pg-socket", "port": "5433"},
        )
    )
    assert socket["RUTTER_DBT_HOST"] == "/tmp/pg-socket" and socket["RUTTER_DBT_PORT"] == "5433"


@pytest.mark.parametrize("url", ["mysql+pymysql://root@127.0.0.1:3306/rutter", "postgresql+psycopg2://u@h"])
def test_dbt_env_from_url_rejects_what_dbt_cannot_use(url: str) -> None:
    with pytest.raises(ValueError, match=r"PostgreSQL|no database"):
        dbt_defs.dbt_env_from_url(url)
