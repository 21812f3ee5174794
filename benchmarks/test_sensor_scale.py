"""A connection-sensor tick at 200, 1,000 and 2,000 connections: seconds and Rutter requests.

The sandbox's `many` profile (small connections, one in 25 not ready) behind Rutter's 500 requests / 10 s,
a fresh PostgreSQL warehouse and Dagster instance per size, 24 months of history. Three ticks per size:
- the first look (every connection is new: its status is asked),
- a steady tick (only the not-ready connections' status is asked),
- the baseline: the same survey asking every connection's status (what every tick did before).

Run: `.venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_sensor_scale.py -s`
"""

from __future__ import annotations

import os
import time
from datetime import date

import dagster as dg
import pytest

from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import connection_month_partitions
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.defs.sensors import apply_partition_requests, connection_sensor, survey
from rutter_pipeline.rutter.catalog import Family
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
            figures = {}
            with dg.instance_for_test() as instance:
                for tick in ("first look", "steady"):
                    before, started = sandbox.request_count, time.perf_counter()
                    resources = {"rutter": rutter, "warehouse": warehouse}
                    with dg.build_sensor_context(instance=instance, resources=resources) as context:
                        result = sensor(context)
                    seconds = time.perf_counter() - started
                    figures[tick] = (seconds, sandbox.request_count - before, len(result.run_requests or []))
                    apply_partition_requests(instance, list(result.dynamic_partitions_requests or []))
                partitions = len(instance.get_dynamic_partitions("commerce_connections")) * len(
                    grids[Family.COMMERCE].partitions_defs[1].partitions_def.get_partition_keys()
                )
            before, started = sandbox.request_count, time.perf_counter()
            survey(rutter.client)
            figures["baseline survey"] = (time.perf_counter() - started, sandbox.request_count - before, 0)
            assert sandbox.over_limit_count == 0
            not_ready = sum(1 for c in sandbox.connections() if c["status"] == "not_ready")
            assert figures["steady"][1] == 1 + not_ready, figures
            rows.append((size, figures, partitions))
        finally:
            sandbox.stop()
            next(database, None)
    print()
    print(
        "| connections | first tick s (requests) | steady tick s (requests) | before: survey alone s (requests) "
        "| run requests of the first tick | commerce partitions per asset |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size, f, partitions in rows:
        first, steady, baseline = f["first look"], f["steady"], f["baseline survey"]
        print(
            f"| {size:,} | {first[0]:.1f} ({first[1]:,}) | {steady[0]:.1f} ({steady[1]:,}) "
            f"| {baseline[0]:.1f} ({baseline[1]:,}) | {first[2]:,} | {partitions:,} |"
        )
