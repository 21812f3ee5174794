"""A connection-sensor tick at 200, 1,000 and 2,000 connections: seconds and Rutter requests.

The sandbox's `many` profile (small connections, one in 25 not ready) behind Rutter's 500 requests / 10 s,
a fresh PostgreSQL warehouse and Dagster instance per size, 24 months of history. Per size:
- the first look: ticks until every connection is known (every connection is new: its status is asked, at most
  `STATUS_REQUESTS_PER_TICK` a tick),
- a steady tick (only the not-ready connections' status is asked; no month loaded, no run launched),
- a steady tick with every month of every ready connection recorded as loaded in `_sync_state`,
- the baseline: the same survey asking every connection's status (what every tick did before).

Run: `.venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_sensor_scale.py -s`
"""

from __future__ import annotations

import os
import time
from datetime import date

import dagster as dg
import pytest
import sqlalchemy as sa

from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import connection_month_partitions, month_keys
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.defs.sensors import apply_partition_requests, connection_sensor, survey
from rutter_pipeline.rutter.catalog import Family, endpoints_for
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline_tests.fixtures.databases import POSTGRES_SERVER, _fresh_database

SIZES = [int(n) for n in os.environ.get("SENSOR_SCALE_SIZES", "200,1000,2000").split(",")]


def _months_back(months: int) -> date:
    today = date.today()
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@pytest.mark.benchmark
def test_sensor_tick_cost_by_connections() -> None:
    grids = connection_month_partitions(_months_back(24))
    sensor = connection_sensor(grids[Family.COMMERCE], list(backfill_jobs(grids).values()), source="sandbox")
    rows = []
    for size in SIZES:
        database = _fresh_database(POSTGRES_SERVER, "postgres", mysql=False)
        url = next(database)
        sandbox = Sandbox(seed=3, profile="many", connections=size)
        sandbox.start()
        try:
            rutter = RutterResource(
                client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, base_url=sandbox.base_url
            )
            warehouse = WarehouseResource(url=url)
            warehouse.engine  # noqa: B018 - migrate before timing
            figures: dict[str, tuple[float, int, int]] = {}
            not_ready = sum(1 for c in sandbox.connections() if c["status"] == "not_ready")
            resources = {"rutter": rutter, "warehouse": warehouse}
            with dg.instance_for_test() as instance:
                first_look = []
                while not first_look or _recorded(warehouse.engine) < size:
                    first_look.append(_tick(sensor, instance, sandbox, resources))
                figures["first look"] = (
                    max(seconds for seconds, _, _ in first_look),
                    sum(requests for _, requests, _ in first_look),
                    len(set().union(*(keys for _, _, keys in first_look))),
                )
                first_look_ticks = len(first_look)
                seconds, requests, keys = _tick(sensor, instance, sandbox, resources)
                figures["steady"] = (seconds, requests, len(keys))
                _record_every_month_loaded(warehouse.engine, month_keys(grids[Family.COMMERCE]))
                seconds, requests, keys = _tick(sensor, instance, sandbox, resources)
                figures["loaded"] = (seconds, requests, len(keys))
                partitions = len(instance.get_dynamic_partitions("commerce_connections")) * len(
                    grids[Family.COMMERCE].partitions_defs[1].partitions_def.get_partition_keys()
                )
            time.sleep(rutter.per_seconds)  # as before a tick (`_tick`)
            before, started = sandbox.request_count, time.perf_counter()
            survey(rutter.client)
            figures["baseline survey"] = (time.perf_counter() - started, sandbox.request_count - before, 0)
            assert sandbox.over_limit_count == 0
            assert figures["steady"][1] == figures["loaded"][1] == 1 + not_ready, figures
            assert figures["loaded"][2] == 0, figures
            rows.append((size, first_look_ticks, figures, partitions))
        finally:
            sandbox.stop()
            next(database, None)
    print()
    print(
        "| connections | first look: ticks, longest s (requests) | steady tick s (requests) "
        "| steady, every month loaded: s (requests) | before: survey alone s (requests) "
        "| backfill run requests of the first look | commerce partitions per asset |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, ticks, f, partitions in rows:
        first, steady, loaded, baseline = f["first look"], f["steady"], f["loaded"], f["baseline survey"]
        print(
            f"| {size:,} | {ticks}, {first[0]:.1f} ({first[1]:,}) | {steady[0]:.1f} ({steady[1]:,}) "
            f"| {loaded[0]:.1f} ({loaded[1]:,}) | {baseline[0]:.1f} ({baseline[1]:,}) | {first[2]:,} "
            f"| {partitions:,} |"
        )


def _tick(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, sandbox: Sandbox, resources: dict
) -> tuple[float, int, set[str]]:
    """One evaluation of the sensor: seconds, Rutter requests, run keys requested (its partition changes applied).

    The daemon ticks a minute apart; each tick's client starts with an empty limiter (the shared PostgreSQL
    limiter is not configured here), so wait for the previous requests to leave Rutter's 10 s window first.
    """
    time.sleep(10)
    before, started = sandbox.request_count, time.perf_counter()
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = sensor(context)
    seconds = time.perf_counter() - started
    apply_partition_requests(instance, list(result.dynamic_partitions_requests or []))
    return seconds, sandbox.request_count - before, {r.run_key for r in result.run_requests or []}


def _recorded(engine: sa.Engine) -> int:
    """Connections whose status the sensor has read at least once."""
    with engine.connect() as db:
        return db.execute(sa.text("SELECT count(*) FROM rutter._connections")).scalar_one()


def _record_every_month_loaded(engine: sa.Engine, months: list[str]) -> None:
    """What the warehouse holds once every backfill is done: a `backfill:<table>:<month>` row per ready connection,
    table of its family and month (about 700,000 rows at 2,000 connections), written by PostgreSQL itself."""
    tables = [(family.value, e.name) for family in Family for e in endpoints_for(family)]
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO rutter._sync_state (connection_id, stream, watermark_ms, updated_at) "
                "SELECT c.id, 'backfill:' || t.name || ':' || m.month, 0, now() "
                "FROM rutter._connections c "
                "JOIN unnest(CAST(:families AS text[]), CAST(:tables AS text[])) AS t(family, name) "
                "ON t.family = c.family "
                "CROSS JOIN unnest(CAST(:months AS text[])) AS m(month) WHERE c.is_ready"
            ),
            {"families": [f for f, _ in tables], "tables": [t for _, t in tables], "months": months},
        )
