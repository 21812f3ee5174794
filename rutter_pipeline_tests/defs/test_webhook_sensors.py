"""Webhooks start work: the sandbox signs and posts events, the receiver records them, the sensors request runs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import dagster as dg
import orjson
import pytest
import requests
import sqlalchemy as sa

from rutter_pipeline.defs.incremental import incremental_job, incremental_jobs
from rutter_pipeline.defs.jobs import backfill_jobs
from rutter_pipeline.defs.partitions import connection_set, month_keys, partition_key
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.defs.sensors import apply_partition_requests
from rutter_pipeline.defs.webhook_sensor import changes_sensor, readiness_sensor
from rutter_pipeline.rutter.catalog import Family, get
from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, sign
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.warehouse.tables import webhook_events
from rutter_pipeline.webhooks.receiver import WebhookReceiver
from rutter_pipeline_tests.sync.truth import stored_rows


@pytest.fixture
def receiver_url(warehouse: WarehouseResource) -> Iterator[str]:
    receiver = WebhookReceiver(warehouse.engine, DEFAULT_CLIENT_SECRET)
    yield receiver.start()
    receiver.stop()


@pytest.fixture
def sandbox(receiver_url: str) -> Iterator[Sandbox]:
    """A small sandbox that posts its signed webhooks to the receiver."""
    sandbox = Sandbox(seed=11, profile="empty", webhook_url=receiver_url)
    sandbox.add_connection("SHOPIFY", name="Small shop", orders=30)
    sandbox.add_connection("QUICKBOOKS", name="Small books", invoices=20)
    sandbox.add_connection("AMAZON", name="Not ready yet", ready=False, orders=10)
    with sandbox:
        yield sandbox


@pytest.fixture
def rutter(sandbox: Sandbox) -> RutterResource:
    return RutterResource(client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, base_url=sandbox.base_url)


def inbox(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as db:
        return db.execute(sa.select(webhook_events).order_by(webhook_events.c.received_at)).all()


def wait_for_inbox(engine: sa.Engine, count: int) -> list[sa.Row]:
    # The receiver records an event first and applies it after (two transactions): wait for both.
    deadline = time.monotonic() + 15
    while len(rows := [row for row in inbox(engine) if row.outcome is not None]) < count:
        assert time.monotonic() < deadline, f"{len(rows)} of {count} webhooks reached the inbox and were applied"
        time.sleep(0.05)
    return rows


def tick(sensor: dg.SensorDefinition, *, instance, resources, cursor: str | None) -> dg.SensorResult:
    """One evaluation; partition changes are applied as the daemon would (runs are not submitted)."""
    with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
        result = sensor(context)
    apply_partition_requests(instance, list(result.dynamic_partitions_requests or []))
    return result


def test_a_readiness_webhook_registers_the_connection_and_requests_its_backfill(
    sandbox, grids, instance, rutter, warehouse
) -> None:
    sensor = readiness_sensor(grids[Family.COMMERCE], list(backfill_jobs(grids).values()))
    resources = {"rutter": rutter, "warehouse": warehouse}
    amazon = sandbox.connection_id("AMAZON")
    sandbox.make_ready(amazon)

    [event] = wait_for_inbox(warehouse.engine, 1)
    assert (event.code, event.connection_id, event.processed_at, event.outcome) == (
        "INITIAL_UPDATE",
        amazon,
        None,
        "queued",
    )
    assert sandbox.access_token(amazon) not in event.payload

    result = tick(sensor, instance=instance, resources=resources, cursor=None)
    months = month_keys(grids[Family.COMMERCE])
    assert set(instance.get_dynamic_partitions(connection_set(Family.COMMERCE))) == {amazon}
    assert instance.get_dynamic_partitions(connection_set(Family.ACCOUNTING)) == []
    assert {(r.job_name, r.partition_key) for r in result.run_requests} == {
        ("commerce_backfill", str(partition_key(amazon, m))) for m in months
    }
    assert all(
        r.tags["rutter/trigger"] == "webhook:readiness" and r.tags["rutter/connection"] == amazon
        for r in result.run_requests
    )

    # The daemon stores the cursor only once the runs are submitted: a tick that failed leaves the event queued,
    # and the retry asks for the same runs under the same keys, which the daemon launches once.
    assert inbox(warehouse.engine)[0].processed_at is None
    retried = tick(sensor, instance=instance, resources=resources, cursor=None)
    assert [r.run_key for r in retried.run_requests] == [r.run_key for r in result.run_requests]

    after = tick(sensor, instance=instance, resources=resources, cursor=result.cursor)
    assert after.run_requests == [] and after.skip_reason
    [event] = inbox(warehouse.engine)
    assert event.processed_at is not None and event.outcome == f"registered; {len(months)} backfill run(s) requested"


def test_change_webhooks_request_one_incremental_run_per_connection_once_quiet(
    sandbox, grids, instance, rutter, warehouse
) -> None:
    shop, books = sandbox.connection_id("SHOPIFY"), sandbox.connection_id("QUICKBOOKS")
    instance.add_dynamic_partitions(connection_set(Family.COMMERCE), [shop])
    instance.add_dynamic_partitions(connection_set(Family.ACCOUNTING), [books])
    resources = {"warehouse": warehouse}
    created = sandbox.create(shop, "/orders")
    for note in ("packed", "shipped", "delivered"):
        sandbox.update(shop, "/orders", created["id"], {"note": note})
    sandbox.create(books, "/accounting/invoices")
    wait_for_inbox(warehouse.engine, 5)

    busy = tick(
        changes_sensor(incremental_jobs(grids), quiet_s=3600, max_wait_s=3600),
        instance=instance,
        resources=resources,
        cursor=None,
    )
    assert busy.run_requests == [] and "2 connection(s) still receiving changes" in busy.skip_reason.skip_message

    sensor = changes_sensor(incremental_jobs(grids), quiet_s=0)
    result = tick(sensor, instance=instance, resources=resources, cursor=None)
    assert sorted((r.job_name, r.partition_key) for r in result.run_requests) == [
        ("accounting_incremental_sync", books),
        ("commerce_incremental_sync", shop),
    ]
    assert all(r.tags["rutter/trigger"] == "webhook:change" for r in result.run_requests)
    retried = tick(sensor, instance=instance, resources=resources, cursor=None)
    assert {r.run_key for r in retried.run_requests} == {r.run_key for r in result.run_requests}

    # The requested run brings the order the webhooks announced.
    [pull] = [r for r in result.run_requests if r.partition_key == shop]
    run = incremental_job(Family.COMMERCE, partitions_def=grids[Family.COMMERCE]).execute_in_process(
        instance=instance,
        partition_key=pull.partition_key,
        tags=pull.tags,
        resources={"rutter": rutter, "warehouse": warehouse},
    )
    assert run.success
    assert stored_rows(warehouse.engine, get("orders"), shop)[created["id"]]["note"] == "delivered"

    settled = tick(sensor, instance=instance, resources=resources, cursor=result.cursor)
    assert settled.run_requests == []
    assert {(e.connection_id, e.outcome) for e in inbox(warehouse.engine)} == {
        (shop, "incremental run requested for commerce (4 event(s))"),
        (books, "incremental run requested for accounting (1 event(s))"),
    }

    # A later change is a new batch, with a run key of its own.
    sandbox.update(shop, "/orders", created["id"], {"note": "returned"})
    wait_for_inbox(warehouse.engine, 6)
    later = tick(sensor, instance=instance, resources=resources, cursor=settled.cursor)
    assert [r.partition_key for r in later.run_requests] == [shop]
    assert later.run_requests[0].run_key not in {r.run_key for r in result.run_requests}


def test_changes_of_a_connection_with_a_pull_already_queued_request_nothing_more(
    sandbox, grids, instance, warehouse
) -> None:
    shop = sandbox.connection_id("SHOPIFY")
    instance.add_dynamic_partitions(connection_set(Family.COMMERCE), [shop])
    job = incremental_job(Family.COMMERCE, partitions_def=grids[Family.COMMERCE])
    instance.create_run_for_job(
        job, tags={"rutter/connection": shop, "dagster/partition": shop}, status=dg.DagsterRunStatus.NOT_STARTED
    )
    sandbox.create(shop, "/orders")
    wait_for_inbox(warehouse.engine, 1)

    sensor = changes_sensor(incremental_jobs(grids), quiet_s=0)
    result = tick(sensor, instance=instance, resources={"warehouse": warehouse}, cursor=None)
    assert result.run_requests == []
    assert json.loads(result.cursor)["requested"][0]["outcome"].startswith("covered by an incremental run")


def test_bad_signatures_malformed_bodies_and_replays_start_nothing(
    sandbox, receiver_url, grids, instance, rutter, warehouse
) -> None:
    shop = sandbox.connection_id("SHOPIFY")
    instance.add_dynamic_partitions(connection_set(Family.COMMERCE), [shop])
    event = {
        "type": "ORDER",
        "code": "ORDER_UPDATED",
        "connection_id": shop,
        "access_token": "tok-secret-123",
        "order": {"id": "o-1"},
    }
    body = orjson.dumps(event)

    def post(data: bytes, signature: str | None) -> int:
        headers = {"Content-Type": "application/json"} | ({SIGNATURE_HEADER: signature} if signature else {})
        return requests.post(receiver_url, data=data, headers=headers, timeout=10).status_code

    assert post(body, None) == 401
    assert post(body, sign(body, "not-the-secret")) == 401
    assert post(body + b" ", sign(body, DEFAULT_CLIENT_SECRET)) == 401  # signed bytes changed on the way
    malformed = b'{"type": "CONNECTION", "code": "INITIAL_UPDATE"'
    assert post(malformed, sign(malformed, DEFAULT_CLIENT_SECRET)) == 400
    without_connection = orjson.dumps({"type": "CONNECTION", "code": "INITIAL_UPDATE"})
    assert post(without_connection, sign(without_connection, DEFAULT_CLIENT_SECRET)) == 400
    assert inbox(warehouse.engine) == []

    readiness = readiness_sensor(grids[Family.COMMERCE], list(backfill_jobs(grids).values()))
    changes = changes_sensor(incremental_jobs(grids), quiet_s=0)
    resources = {"rutter": rutter, "warehouse": warehouse}
    assert tick(readiness, instance=instance, resources=resources, cursor=None).run_requests == []
    assert tick(changes, instance=instance, resources=resources, cursor=None).run_requests == []

    # A replay (Rutter retries; anyone may resend a captured delivery) is one event and one run.
    signature = sign(body, DEFAULT_CLIENT_SECRET)
    assert [post(body, signature) for _ in range(3)] == [200, 200, 200]
    assert len(inbox(warehouse.engine)) == 1
    first = tick(changes, instance=instance, resources=resources, cursor=None)
    assert [r.partition_key for r in first.run_requests] == [shop]
    settled = tick(changes, instance=instance, resources=resources, cursor=first.cursor)
    assert settled.run_requests == []
    # Replayed after its run was requested, it is still the same, processed event: nothing starts again.
    assert post(body, signature) == 200
    [row] = inbox(warehouse.engine)
    assert row.processed_at is not None
    assert tick(changes, instance=instance, resources=resources, cursor=settled.cursor).run_requests == []
