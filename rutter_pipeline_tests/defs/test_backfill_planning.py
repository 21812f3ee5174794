"""Planning the backfills of many connections at once: the same months as one connection at a time, in a few
queries whatever the number of connections (a sensor tick at thousands of connections must finish in 60 s)."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from rutter_pipeline.defs.backfills import ERROR_TAG, plan_all_backfills, plan_backfills
from rutter_pipeline.defs.jobs import CONNECTION_TAG, backfill_job_name
from rutter_pipeline.defs.partitions import month_keys, partition_key
from rutter_pipeline.rutter.catalog import Family, endpoints_for
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.sync.watermarks import backfill_stream
from rutter_pipeline.warehouse.sync_state import write_watermark

#: More connections than one query takes (1,000 warehouse ids, 500 run-history tag values).
CONNECTIONS = 1200


def shop(number: int) -> Connection:
    return Connection(
        id=f"shop-{number:04d}",
        access_token="unused",
        platform="SHOPIFY",
        status="active",
        name=None,
        created_at=None,
        updated_at=None,
    )


def recorded_as(job_name: str) -> dg.JobDefinition:
    """A job of that name to record runs under: planning reads only the runs' job name, status and tags."""

    @dg.op
    def nothing() -> None:
        pass

    @dg.job(name=job_name)
    def _job() -> None:
        nothing()

    return _job


def test_many_connections_are_planned_in_a_few_queries_with_each_connections_own_history(
    grids, instance, warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    months = month_keys(grids[Family.COMMERCE])
    job = recorded_as(backfill_job_name(Family.COMMERCE))
    connections = [shop(n) for n in range(CONNECTIONS)]
    loaded, failing, in_flight, failed_once = (connections[n].id for n in (0, 700, 1100, 1199))

    with warehouse.engine.begin() as db:  # every commerce table of the first month: loaded
        for endpoint in endpoints_for(Family.COMMERCE):
            write_watermark(db, connection_id=loaded, stream=backfill_stream(endpoint.name, months[0]), watermark_ms=0)

    def run(connection_id: str, status: dg.DagsterRunStatus, tags: dict[str, str]) -> None:
        instance.create_run_for_job(job, tags={CONNECTION_TAG: connection_id, **tags}, status=status)

    def month_tags(connection_id: str, month: str) -> dict[str, str]:
        return {"dagster/partition/connection": connection_id, "dagster/partition/month": month}

    for _ in range(2):  # the second month failed twice in a row: it waits before its next try
        run(failing, dg.DagsterRunStatus.FAILURE, {**month_tags(failing, months[1]), ERROR_TAG: "boom"})
    # A run of every month in flight: nothing of that connection is requested again.
    run(
        in_flight,
        dg.DagsterRunStatus.STARTED,
        {
            ASSET_PARTITION_RANGE_START_TAG: str(partition_key(in_flight, months[0])),
            ASSET_PARTITION_RANGE_END_TAG: str(partition_key(in_flight, months[-1])),
        },
    )
    run(failed_once, dg.DagsterRunStatus.FAILURE, {**month_tags(failed_once, months[2]), ERROR_TAG: "timeout"})

    history_queries = 0
    get_run_records = instance.get_run_records

    def counted_get_run_records(*args, **kwargs):
        nonlocal history_queries
        history_queries += 1
        return get_run_records(*args, **kwargs)

    monkeypatch.setattr(instance, "get_run_records", counted_get_run_records)
    warehouse_queries = []
    sa.event.listen(warehouse.engine, "before_cursor_execute", lambda *a: warehouse_queries.append(a[2]))

    now = datetime.now(UTC)
    plans = plan_all_backfills(instance, warehouse.engine, connections=connections, months=months, now=now)

    assert len(warehouse_queries) == 2  # 1,200 connections: 1,000 ids, then 200
    assert history_queries == 6  # 1,200 connections: 3 × 500 ids, two tags each
    assert [m.month for m in plans[loaded].due] == months[1:]
    assert [(m.month, m.runs) for m in plans[failing].due] == [(months[0], 0), (months[2], 0)]
    [waiting] = plans[failing].waiting
    assert (waiting.month, waiting.failures, waiting.runs, waiting.last_error) == (months[1], 2, 2, "boom")
    assert waiting.retry_at is not None and waiting.retry_at > now
    assert plans[in_flight].due == [] and plans[in_flight].waiting == []
    assert [(m.month, m.failures, m.runs, m.last_error) for m in plans[failed_once].due] == [
        (months[0], 0, 0, ""),
        (months[1], 0, 0, ""),
        (months[2], 1, 1, "timeout"),
    ]
    untouched = {c.id for c in connections} - {loaded, failing, in_flight, failed_once}
    assert all([m.month for m in plans[cid].due] == months and not plans[cid].waiting for cid in untouched)
    for connection_id in (loaded, failing, in_flight, failed_once):  # as planned one connection at a time
        connection = connections[int(connection_id.removeprefix("shop-"))]
        alone = plan_backfills(instance, warehouse.engine, connection=connection, months=months, now=now)
        assert alone == plans[connection_id]
