"""Webhooks over real HTTP: the sandbox signs and posts, the receiver verifies and applies commerce deletions."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, sign
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.sync import backfill
from rutter_pipeline.warehouse.tables import raw_table, webhook_events
from rutter_pipeline.webhooks.receiver import WebhookReceiver
from rutter_pipeline_tests.sync.truth import stored_rows

ORDERS = get("orders")


@pytest.fixture
def receiver_url(pg_engine: sa.Engine) -> Iterator[str]:
    receiver = WebhookReceiver(pg_engine, DEFAULT_CLIENT_SECRET)
    yield receiver.start()
    receiver.stop()


def post(url: str, body: bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"} | ({SIGNATURE_HEADER: signature} if signature else {})
    return requests.post(url, data=body, headers=headers, timeout=10)


def quarantined(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as db:
        return db.execute(sa.text("select reason, payload from rutter._quarantine")).all()


def test_an_order_deleted_in_the_store_is_marked_deleted(pg_engine, receiver_url):
    with Sandbox(webhook_url=receiver_url) as sandbox:
        client = RutterClient(
            base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET
        )
        shop = next(c for c in client.list_connections() if c.platform == "SHOPIFY")
        backfill(client=client, engine=pg_engine, connection=shop, endpoint=ORDERS, window=Window(None, None))
        victim = next(iter(sandbox.truth(shop.id, "/orders")))["id"]
        sandbox.delete(shop.id, "/orders", victim)
        deadline = time.monotonic() + 10
        while victim not in stored_rows(pg_engine, ORDERS, shop.id, live=False):
            assert time.monotonic() < deadline, "the deletion webhook was not applied"
            time.sleep(0.1)
        assert victim not in stored_rows(pg_engine, ORDERS, shop.id)


def test_a_bad_signature_is_refused_and_changes_nothing(pg_engine, receiver_url):
    body = json.dumps({"type": "ORDER", "code": "ORDER_DELETED", "connection_id": "c1", "order": {"id": "o1"}}).encode()
    assert post(receiver_url, body, None).status_code == 401
    assert post(receiver_url, body, sign(body, "another-secret")).status_code == 401
    assert stored_rows(pg_engine, ORDERS, "c1", live=False) == {}


def test_a_signed_body_that_is_not_an_event_is_kept_aside_without_its_token(pg_engine, receiver_url):
    body = b'{"type": "ORDER", "access_token": "tok-secret-123", "code": '
    reply = post(receiver_url, body, sign(body, DEFAULT_CLIENT_SECRET))
    assert reply.status_code == 400 and "not JSON" in reply.json()["error"]
    [(reason, payload)] = quarantined(pg_engine)
    assert "not JSON" in reason and "tok-secret-123" not in payload


def test_a_deletion_without_an_object_id_is_quarantined(pg_engine, receiver_url):
    body = json.dumps(
        {"type": "ORDER", "code": "ORDER_DELETED", "connection_id": "c1", "access_token": "tok-secret-123"}
    ).encode()
    reply = post(receiver_url, body, sign(body, DEFAULT_CLIENT_SECRET))
    assert reply.json() == {"status": "quarantined"}
    [(reason, payload)] = quarantined(pg_engine)
    assert "no object id" in reason and "tok-secret-123" not in payload


def test_events_that_start_work_are_queued_for_the_sensors_and_others_acknowledged(pg_engine, receiver_url):
    def deliver(code: str) -> dict:
        body = json.dumps({"type": "CONNECTION", "code": code, "connection_id": "c1", "access_token": "t"}).encode()
        return post(receiver_url, body, sign(body, DEFAULT_CLIENT_SECRET)).json()

    assert deliver("INITIAL_UPDATE") == {"status": "queued"}
    assert deliver("INITIAL_UPDATE") == {"status": "duplicate"}
    assert deliver("CONNECTION_NEEDS_UPDATE") == {"status": "ignored"}
    rows = {row.code: row for row in inbox_rows(pg_engine)}
    assert rows["INITIAL_UPDATE"].processed_at is None and rows["INITIAL_UPDATE"].outcome == "queued"
    assert rows["CONNECTION_NEEDS_UPDATE"].processed_at is not None


def deletion(order_id: str, connection_id: str = "c1") -> bytes:
    return json.dumps(
        {
            "type": "ORDER",
            "code": "ORDER_DELETED",
            "connection_id": connection_id,
            "access_token": "tok-secret-123",
            "order": {"id": order_id},
        }
    ).encode()


def signed_post(url: str, body: bytes) -> requests.Response:
    return post(url, body, sign(body, DEFAULT_CLIENT_SECRET))


def inbox_rows(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as db:
        return db.execute(sa.select(webhook_events).order_by(webhook_events.c.received_at)).all()


def deleted_at(engine: sa.Engine, order_id: str):
    table = raw_table(ORDERS)
    with engine.connect() as db:
        return db.execute(sa.select(table.c._deleted_at).where(table.c.id == order_id)).scalar_one()


def test_a_replayed_event_is_recorded_and_applied_once(engine):
    receiver = WebhookReceiver(engine, DEFAULT_CLIENT_SECRET)
    url = receiver.start()
    try:
        body = deletion("o1")
        assert signed_post(url, body).json() == {"status": "deleted"}
        first = deleted_at(engine, "o1")
        time.sleep(0.05)
        # Rutter retries and replays: the same event, again and at the same time from several connections.
        with ThreadPoolExecutor(10) as pool:
            replies = list(pool.map(lambda _: signed_post(url, body), range(10)))
        assert [r.json() for r in replies] == [{"status": "duplicate"}] * 10
        assert deleted_at(engine, "o1") == first, "a replay must not move the deletion time"
        # Concurrent first deliveries of one event: applied exactly once.
        with ThreadPoolExecutor(10) as pool:
            replies = list(pool.map(lambda _: signed_post(url, deletion("o2")), range(10)))
        assert sorted(r.json()["status"] for r in replies) == ["deleted"] + ["duplicate"] * 9
    finally:
        receiver.stop()
    rows = inbox_rows(engine)
    assert len(rows) == 2 and {row.outcome for row in rows} == {"deleted"}
    assert all(row.processed_at is not None and row.event_id.startswith("sha256:") for row in rows)
    assert {(row.type, row.code, row.connection_id) for row in rows} == {("ORDER", "ORDER_DELETED", "c1")}
    assert all("tok-secret-123" not in row.payload for row in rows)
    assert json.loads(rows[0].payload)["order"] == {"id": "o1"}


def test_a_body_that_is_not_json_by_content_type_is_refused(pg_engine, receiver_url):
    body = deletion("o1")
    signature = sign(body, DEFAULT_CLIENT_SECRET)
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        headers = {SIGNATURE_HEADER: signature} | ({"Content-Type": content_type} if content_type else {})
        reply = requests.post(receiver_url, data=body, headers=headers, timeout=10)
        assert reply.status_code == 415 and "application/json" in reply.json()["error"]
    headers = {SIGNATURE_HEADER: signature, "Content-Type": "Application/JSON; charset=utf-8"}
    assert requests.post(receiver_url, data=body, headers=headers, timeout=10).json() == {"status": "deleted"}
    assert len(inbox_rows(pg_engine)) == 1


def test_a_burst_of_200_concurrent_deliveries_all_succeed(pg_engine, receiver_url):
    bodies = [deletion(f"burst-{i}") for i in range(200)]
    barrier = threading.Barrier(200)

    def deliver(body: bytes) -> int:
        barrier.wait()
        return signed_post(receiver_url, body).status_code

    with ThreadPoolExecutor(200) as pool:
        statuses = list(pool.map(deliver, bodies))
    assert statuses == [200] * 200
    assert len(inbox_rows(pg_engine)) == 200


def test_slow_clients_are_cut_off_and_hold_no_thread(pg_engine):
    receiver = WebhookReceiver(pg_engine, DEFAULT_CLIENT_SECRET, request_timeout_s=1.0)
    url = receiver.start()
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    threads_before = threading.active_count()
    slow = []
    try:
        for _ in range(100):
            client = socket.create_connection((host, int(port)), timeout=10)
            # Headers that never end, and a body that never comes.
            client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
            slow.append(client)
        stalled = socket.create_connection((host, int(port)), timeout=10)
        stalled.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{")
        slow.append(stalled)
        assert threading.active_count() - threads_before <= 2, "slow clients must not hold threads"
        # The receiver still serves others while they hang on.
        assert signed_post(url, deletion("o1")).json() == {"status": "deleted"}
        started = time.monotonic()
        for client in slow:
            assert client.recv(1024) == b"", "the receiver closes a connection whose request does not arrive"
        assert time.monotonic() - started < 5
    finally:
        for client in slow:
            client.close()
        receiver.stop()
