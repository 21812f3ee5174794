"""The connection sensor registers ready connections and requests their backfills; the schedule pulls changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG as RANGE_END
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_START_TAG as RANGE_START

from rutter_pipeline.app.headless_sync import evaluate_schedule, evaluate_sensor, execute_requests
from rutter_pipeline.defs.assets import family_assets, rutter_assets
from rutter_pipeline.defs.backfills import MissingMonth, month_range_requests, plan_backfills, retry_delay
from rutter_pipeline.defs.incremental import batch_run_config, incremental_jobs, pull_op_name
from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import connection_set, month_keys, partition_key
from rutter_pipeline.defs.resources import RutterResource
from rutter_pipeline.defs.schedules import incremental_requests, incremental_schedule, schedule_name
from rutter_pipeline.defs.sensors import (
    SENSOR_NAME,
    ConnectionReport,
    apply_partition_requests,
    connection_sensor,
    partition_requests,
)
from rutter_pipeline.rutter.catalog import Family, endpoints_for
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.warehouse import schema, sync_state


def evaluate(sensor: dg.SensorDefinition, *, instance, rutter, warehouse) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, resources={"rutter": rutter, "warehouse": warehouse}) as context:
        result = sensor(context)
    # Apply the partition changes as the daemon would, so the next evaluation sees them.
    apply_partition_requests(instance, list(result.dynamic_partitions_requests or []))
    return result


def registered(instance: dg.DagsterInstance, family: Family) -> set[str]:
    return set(instance.get_dynamic_partitions(connection_set(family)))


def sensor_of(grids) -> dg.SensorDefinition:
    return connection_sensor(grids[Family.COMMERCE], list(backfill_jobs(grids).values()))


def targets(request: dg.RunRequest) -> tuple[str, str]:
    """The first and last partition a run request covers (the same for a one-partition request)."""
    if request.partition_key:
        return str(request.partition_key), str(request.partition_key)
    return request.tags[RANGE_START], request.tags[RANGE_END]


def test_sensor_registers_ready_connections_with_their_family_and_requests_every_month(
    small_sandbox, grids, instance, rutter, warehouse
) -> None:
    sensor = sensor_of(grids)
    shop, books = small_sandbox.connection_id("SHOPIFY"), small_sandbox.connection_id("QUICKBOOKS")
    amazon, netsuite = small_sandbox.connection_id("AMAZON"), small_sandbox.connection_id("NETSUITE")

    result = evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)

    assert registered(instance, Family.COMMERCE) == {shop}
    assert registered(instance, Family.ACCOUNTING) == {books}
    # The three months of each connection in one run: a range of consecutive months.
    requested = {(r.job_name, targets(r)) for r in result.run_requests}
    months = month_keys(grids[Family.COMMERCE])
    assert requested == {
        ("commerce_backfill", (str(partition_key(shop, months[0])), str(partition_key(shop, months[-1])))),
        ("accounting_backfill", (str(partition_key(books, months[0])), str(partition_key(books, months[-1])))),
    }
    assert {
        (r.tags["rutter/pull"], r.tags["rutter/connection"], r.tags["rutter/connection_name"])
        for r in result.run_requests
    } == {("backfill", shop, "SHOPIFY Small shop"), ("backfill", books, "QUICKBOOKS Small books")}
    cursor = json.loads(result.cursor)
    assert amazon in cursor["waiting"]
    assert "re-authentication" in cursor["broken"][netsuite]
    with warehouse.engine.connect() as db:
        recorded = dict(db.execute(sa.text("select id, is_ready from rutter._connections")).all())
    assert recorded == {shop: True, books: True, amazon: False, netsuite: True}

    small_sandbox.make_ready(amazon)
    again = evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)
    assert registered(instance, Family.COMMERCE) == {shop, amazon}
    assert registered(instance, Family.ACCOUNTING) == {books}
    assert [targets(r) for r in again.run_requests if r.tags["rutter/connection"] == amazon] == [
        (str(partition_key(amazon, months[0])), str(partition_key(amazon, months[-1])))
    ]
    # Requests for months not run yet are repeated with the same run key, which the daemon deduplicates.
    first_keys = {r.run_key for r in result.run_requests}
    assert first_keys <= {r.run_key for r in again.run_requests}


def test_sensor_skips_backfilled_months_and_drops_vanished_connections(
    small_sandbox, grids, instance, rutter, warehouse
) -> None:
    sensor = sensor_of(grids)
    shop = small_sandbox.connection_id("SHOPIFY")
    for family in Family:
        instance.add_dynamic_partitions(connection_set(family), ["vanished-connection"])
    evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)
    assert all("vanished-connection" not in registered(instance, family) for family in Family)

    grid = grids[Family.COMMERCE]
    defs = dg.Definitions(
        assets=[family_assets(Family.COMMERCE, partitions_def=grid)],
        jobs=[backfill_jobs(grids)[Family.COMMERCE]],
        resources={"rutter": rutter, "warehouse": warehouse},
    )
    month = month_keys(grid)[0]
    run = defs.resolve_job_def("commerce_backfill").execute_in_process(
        instance=instance, partition_key=partition_key(shop, month)
    )
    assert run.success

    connection = next(c for c in rutter.client.list_connections() if c.id == shop)
    plan = plan_backfills(instance, warehouse.engine, connection=connection, months=month_keys(grid))
    assert [m.month for m in plan.due] == month_keys(grid)[1:] and not plan.waiting
    result = evaluate(sensor, instance=instance, rutter=rutter, warehouse=warehouse)
    [shop_request] = [r for r in result.run_requests if r.tags["rutter/connection"] == shop]
    assert targets(shop_request) == (
        str(partition_key(shop, month_keys(grid)[1])),
        str(partition_key(shop, month_keys(grid)[-1])),
    )


def test_a_run_of_several_months_records_each_month_and_counts_them_as_loaded(
    small_sandbox, grids, instance, rutter, warehouse
) -> None:
    """The sensor's range runs: one run, a materialization per (asset, month), and the months are settled."""
    shop = small_sandbox.connection_id("SHOPIFY")
    evaluate(sensor_of(grids), instance=instance, rutter=rutter, warehouse=warehouse)
    grid = grids[Family.COMMERCE]
    defs = dg.Definitions(
        assets=[family_assets(Family.COMMERCE, partitions_def=grid)],
        jobs=[backfill_jobs(grids)[Family.COMMERCE]],
        resources={"rutter": rutter, "warehouse": warehouse},
    )
    connection = next(c for c in rutter.client.list_connections() if c.id == shop)
    missing = plan_backfills(instance, warehouse.engine, connection=connection, months=month_keys(grid)).due
    [request] = month_range_requests(missing[1:], months=month_keys(grid))  # the last two months
    run = defs.resolve_job_def("commerce_backfill").execute_in_process(instance=instance, tags=request.tags)
    assert run.success

    orders = [
        e.materialization
        for e in run.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["rutter", "commerce", "orders"])
    ]
    assert sorted(m.partition for m in orders) == [str(partition_key(shop, m)) for m in month_keys(grid)[1:]]
    assert {m.metadata["connection"].value for m in orders} == {f"SHOPIFY Small shop ({shop})"}
    assert [
        m.month for m in plan_backfills(instance, warehouse.engine, connection=connection, months=month_keys(grid)).due
    ] == month_keys(grid)[:1]


def test_ranges_stop_at_gaps_and_at_the_months_per_run() -> None:
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    missing = [MissingMonth("c", Family.COMMERCE, m) for m in months if m != "2025-03"]
    requests = month_range_requests(missing, months=months, per_run=4)
    assert [targets(r) for r in requests] == [
        ("c|2025-01", "c|2025-02"),
        ("c|2025-04", "c|2025-07"),
        ("c|2025-08", "c|2025-11"),
        ("c|2025-12", "c|2025-12"),
    ]


def test_a_failed_month_waits_longer_after_each_failure() -> None:
    delays = [retry_delay(n).total_seconds() for n in range(1, 8)]
    assert delays[0] == 0 and delays[1] == 300 and delays == sorted(delays) and delays[-1] <= 6 * 3600


def test_sensor_skips_with_a_reason_when_no_connection_is_ready(grids, instance, warehouse) -> None:
    with Sandbox(seed=3, profile="empty") as sandbox:
        sandbox.add_connection("AMAZON", name="Still syncing", ready=False)
        sandbox.start()
        rutter = RutterResource(
            client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, base_url=sandbox.base_url
        )
        result = evaluate(sensor_of(grids), instance=instance, rutter=rutter, warehouse=warehouse)
    assert not result.run_requests
    assert "0 ready" in result.skip_reason.skip_message
    assert "AMAZON: initial sync not finished" in result.skip_reason.skip_message


def connection(connection_id: str, platform: str) -> Connection:
    return Connection(
        id=connection_id,
        access_token="unused",
        platform=platform,
        status="active",
        name=None,
        created_at=None,
        updated_at=None,
    )


def test_unknown_platforms_fill_both_families_and_held_back_connections_keep_their_partitions(instance) -> None:
    instance.add_dynamic_partitions(connection_set(Family.ACCOUNTING), ["books-needing-login", "gone"])
    report = ConnectionReport(
        ready=[connection("shop", "SHOPIFY"), connection("new", "SOME_NEW_PLATFORM")],
        broken={"books-needing-login": "needs re-authentication by the merchant"},
    )
    apply_partition_requests(instance, partition_requests(instance, report))
    assert registered(instance, Family.COMMERCE) == {"shop", "new"}
    assert registered(instance, Family.ACCOUNTING) == {"new", "books-needing-login"}
    assert partition_requests(instance, report) == []


def test_schedules_request_incremental_runs_for_their_familys_usable_connections(
    small_sandbox, grids, instance, rutter, warehouse
) -> None:
    shop, books = small_sandbox.connection_id("SHOPIFY"), small_sandbox.connection_id("QUICKBOOKS")
    netsuite = small_sandbox.connection_id("NETSUITE")
    instance.add_dynamic_partitions(connection_set(Family.COMMERCE), [shop, "vanished-connection"])
    instance.add_dynamic_partitions(connection_set(Family.ACCOUNTING), [books, netsuite])
    jobs = incremental_jobs(grids)
    schedules = {family: incremental_schedule(family, job=job, cron="0 * * * *") for family, job in jobs.items()}
    repository = dg.Definitions(
        jobs=list(jobs.values()),
        schedules=list(schedules.values()),
        resources={"rutter": rutter, "warehouse": warehouse},
    ).get_repository_def()
    tick = datetime(2026, 1, 1, 10, tzinfo=UTC)
    requested = {}
    for family, schedule in schedules.items():
        with dg.build_schedule_context(
            instance=instance, resources={"rutter": rutter}, repository_def=repository, scheduled_execution_time=tick
        ) as context:
            requests = schedule.evaluate_tick(context).run_requests
        assert all(r.tags["rutter/pull"] == "incremental" for r in requests)
        requested[family] = [batched(r, family) for r in requests]
    # One run per batch of connections (here one batch each), its connections named in the run config.
    assert requested == {Family.COMMERCE: [[shop]], Family.ACCOUNTING: [[books]]}
    assert {s.job_name for s in schedules.values()} == {"commerce_incremental_sync", "accounting_incremental_sync"}


def batched(request: dg.RunRequest, family: Family) -> list[str]:
    return request.run_config["ops"][pull_op_name(family)]["config"]["connections"]


def test_a_tick_batches_many_connections_into_few_runs() -> None:
    listed = [connection(f"shop-{n:04d}", "SHOPIFY") for n in range(120)]
    listed += [Connection("stuck", "t", "SHOPIFY", "needs_reauth", None, None, None)]
    registered = {c.id for c in listed} - {"shop-0007"}
    requests = incremental_requests(Family.COMMERCE, registered=registered, listed=listed, tick="t1", per_run=50)
    batches = [batched(r, Family.COMMERCE) for r in requests]
    assert [len(b) for b in batches] == [50, 50, 19]
    pulled = [cid for batch in batches for cid in batch]
    assert sorted(pulled) == sorted(registered - {"stuck"})  # each once; not the unregistered or unpullable one
    assert len({r.run_key for r in requests}) == 3


def test_a_batch_pulls_every_connection_it_can_and_names_the_one_it_cannot(
    small_sandbox, grids, instance, rutter, warehouse
) -> None:
    shop = small_sandbox.connection_id("SHOPIFY")
    job = incremental_jobs(grids)[Family.COMMERCE]

    def pull(connection_ids: list[str]) -> dg.ExecuteInProcessResult:
        return job.execute_in_process(
            instance=instance,
            resources={"rutter": rutter, "warehouse": warehouse},
            run_config=batch_run_config(Family.COMMERCE, connection_ids),
            raise_on_error=False,
        )

    assert pull([shop]).success  # the first pull sets the watermarks
    order = next(iter(small_sandbox.truth(shop, "/orders")))
    small_sandbox.update(shop, "/orders", order["id"], {"note": "pulled despite its neighbour"})
    result = pull(["vanished-connection", shop])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).event_specific_data.error
    assert "1 of 2 connections" in failure.message and "vanished-connection" in failure.message
    # The connection after the failed one was pulled and its partitions recorded.
    recorded = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    written = {entry.dagster_event.partition for entry in recorded}
    assert written and all(key.startswith(f"{shop}|") for key in written)
    with warehouse.engine.connect() as conn:
        note = conn.execute(
            sa.text("SELECT data->>'note' FROM rutter.orders WHERE id = :id"), {"id": order["id"]}
        ).scalar_one()
    assert note == "pulled despite its neighbour"


def test_jobs_launched_without_a_partition_say_what_to_choose(grids, instance, rutter, warehouse) -> None:
    """The Launchpad lets a partitioned job start without a partition; the run stops at once and says why."""
    defs = dg.Definitions(
        assets=[family_assets(Family.COMMERCE, partitions_def=grids[Family.COMMERCE])],
        jobs=[*incremental_jobs(grids).values(), backfill_jobs(grids)[Family.COMMERCE]],
        resources={"rutter": rutter, "warehouse": warehouse},
    )
    for job_name, what in (
        ("accounting_incremental_sync", "a connection chosen"),
        ("commerce_backfill", "a connection and month chosen"),
    ):
        result = defs.resolve_job_def(job_name).execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        [failure] = [e for e in result.all_events if e.is_step_failure]
        message = failure.step_failure_data.user_failure_data.description
        assert message.startswith(f"{job_name} needs a partition: launch it with {what}"), message


def test_a_headless_tick_runs_what_the_real_sensor_and_schedules_request(
    small_sandbox, grids, instance, rutter, warehouse
) -> None:
    """`rutter-pipeline sync`'s core: the sensor's tick (a one-month request for a connection the same tick
    registers), its partition changes applied, its runs executed, then the schedules' batches."""
    shop = small_sandbox.connection_id("SHOPIFY")
    middle = month_keys(grids[Family.COMMERCE])[1]
    schema.upgrade(warehouse.engine)
    with warehouse.engine.begin() as conn:  # the middle month is loaded already: two one-month requests remain
        for endpoint in endpoints_for(Family.COMMERCE):
            sync_state.write_watermark(
                conn, connection_id=shop, stream=f"backfill:{endpoint.name}:{middle}", watermark_ms=0
            )
    jobs = incremental_jobs(grids)
    backfills = list(backfill_jobs(grids).values())
    defs = dg.Definitions(
        assets=rutter_assets(grids),
        jobs=[*backfills, *jobs.values()],
        sensors=[connection_sensor(grids[Family.COMMERCE], backfills)],
        schedules=[incremental_schedule(family, job=job, cron="0 * * * *") for family, job in jobs.items()],
        resources={"rutter": rutter, "warehouse": warehouse},
    )
    tick = evaluate_sensor(defs, instance, SENSOR_NAME)
    shop_requests = [r for r in tick.run_requests if r.tags["rutter/connection"] == shop]
    assert sorted(str(r.partition_key) for r in shop_requests) == sorted(
        str(partition_key(shop, month)) for month in month_keys(grids[Family.COMMERCE]) if month != middle
    )
    assert shop in registered(instance, Family.COMMERCE)
    runs = execute_requests(defs, instance, tick.run_requests, workers=1, progress=lambda run: None)
    assert runs and all(run.success for run in runs), [run.error for run in runs]

    pulls = evaluate_schedule(defs, instance, schedule_name(Family.COMMERCE))
    assert [batched(r, Family.COMMERCE) for r in pulls] == [[shop]]
    [pull] = execute_requests(defs, instance, pulls, workers=1, progress=lambda run: None)
    assert pull.success and pull.partition == "1 connection(s)"
