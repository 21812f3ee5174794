"""The connection sensor registers ready connections and requests their backfills; the schedule pulls changes."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.assets import family_assets
from rutter_pipeline.defs.backfills import missing_months
from rutter_pipeline.defs.incremental import incremental_job
from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import CONNECTION, month_keys, partition_key
from rutter_pipeline.defs.schedules import incremental_schedule
from rutter_pipeline.defs.sensors import connection_sensor
from rutter_pipeline.defs.resources import RutterResource
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox


def evaluate(sensor: dg.SensorDefinition, *, instance, rutter, warehouse) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, resources={"rutter": rutter, "warehouse": warehouse}) as context:
        result = sensor(context)
    # Apply the partition changes as the daemon would, so the next evaluation sees them.
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(CONNECTION, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(CONNECTION, key)
    return result


def test_sensor_registers_ready_connections_and_requests_every_month(
    small_sandbox, grid, instance, rutter, warehouse
) -> None:
    sensor = connection_sensor(grid, list(backfill_jobs(grid).values()))
    shop, books = small_sandbox.connection_id("SHOPIFY"), small_sandbox.connection_id("QUICKBOOKS")
    amazon, netsuite = small_sandbox.connection_id("AMAZON"), small_sandbox.connection_id("NETSUITE")

    result = evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)

    assert set(instance.get_dynamic_partitions(CONNECTION)) == {shop, books}
    requested = {(r.job_name, r.partition_key) for r in result.run_requests}
    months = month_keys(grid)
    assert requested == {("commerce_backfill", str(partition_key(shop, m))) for m in months} | {
        ("accounting_backfill", str(partition_key(books, m))) for m in months}
    assert all(r.tags["rutter/pull"] == "backfill" and r.tags["rutter/connection"] in (shop, books)
               for r in result.run_requests)
    cursor = json.loads(result.cursor)
    assert amazon in cursor["waiting"]
    assert "re-authentication" in cursor["broken"][netsuite]
    with warehouse.engine.connect() as db:
        recorded = dict(db.execute(sa.text("select id, is_ready from rutter._connections")).all())
    assert recorded == {shop: True, books: True, amazon: False, netsuite: True}

    small_sandbox.make_ready(amazon)
    again = evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)
    assert amazon in instance.get_dynamic_partitions(CONNECTION)
    assert {r.partition_key for r in again.run_requests if r.tags["rutter/connection"] == amazon} == {
        str(partition_key(amazon, m)) for m in months}
    # Requests for months not run yet are repeated with the same run key, which the daemon deduplicates.
    first_keys = {r.run_key for r in result.run_requests}
    assert first_keys <= {r.run_key for r in again.run_requests}


def test_sensor_skips_backfilled_months_and_drops_vanished_connections(
    small_sandbox, grid, instance, rutter, warehouse
) -> None:
    sensor = connection_sensor(grid, list(backfill_jobs(grid).values()))
    shop = small_sandbox.connection_id("SHOPIFY")
    instance.add_dynamic_partitions(CONNECTION, ["vanished-connection"])
    evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)
    assert "vanished-connection" not in instance.get_dynamic_partitions(CONNECTION)

    defs = dg.Definitions(assets=[family_assets(Family.COMMERCE, partitions_def=grid)],
                          jobs=[backfill_jobs(grid)[Family.COMMERCE]],
                          resources={"rutter": rutter, "warehouse": warehouse})
    month = month_keys(grid)[0]
    run = defs.resolve_job_def("commerce_backfill").execute_in_process(
        instance=instance, partition_key=partition_key(shop, month))
    assert run.success

    connection = next(c for c in rutter.client.list_connections() if c.id == shop)
    assert [m.month for m in missing_months(instance, connection=connection, months=month_keys(grid))] == \
        month_keys(grid)[1:]
    result = evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)
    assert str(partition_key(shop, month)) not in {r.partition_key for r in result.run_requests}


def test_sensor_skips_with_a_reason_when_no_connection_is_ready(grid, instance, warehouse) -> None:
    with Sandbox(seed=3, profile="empty") as sandbox:
        sandbox.add_connection("AMAZON", name="Still syncing", ready=False)
        sandbox.start()
        rutter = RutterResource(client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET,
                                base_url=sandbox.base_url)
        result = evaluate(connection_sensor(grid, list(backfill_jobs(grid).values())), instance=instance,
                          rutter=rutter, warehouse=warehouse)
    assert not result.run_requests
    assert "0 ready" in result.skip_reason.skip_message
    assert "AMAZON: initial sync not finished" in result.skip_reason.skip_message


def test_schedule_requests_incremental_runs_for_usable_registered_connections(
    small_sandbox, grid, instance, rutter, warehouse
) -> None:
    shop, books = small_sandbox.connection_id("SHOPIFY"), small_sandbox.connection_id("QUICKBOOKS")
    netsuite = small_sandbox.connection_id("NETSUITE")
    instance.add_dynamic_partitions(CONNECTION, [shop, books, netsuite, "vanished-connection"])
    job = incremental_job(grid)
    schedule = incremental_schedule(job, cron="0 * * * *")
    repository = dg.Definitions(jobs=[job], schedules=[schedule],
                                resources={"rutter": rutter, "warehouse": warehouse}).get_repository_def()
    tick = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    with dg.build_schedule_context(instance=instance, resources={"rutter": rutter}, repository_def=repository,
                                   scheduled_execution_time=tick) as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert sorted(r.partition_key for r in requests) == sorted([shop, books])
    assert all(r.tags["rutter/pull"] == "incremental" for r in requests)
    assert len({r.run_key for r in requests}) == 2
