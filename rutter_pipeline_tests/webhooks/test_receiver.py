"""Webhooks over real HTTP: the sandbox signs and posts, the receiver verifies and applies commerce deletions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.timeutil import Window
from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, sign
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.sync import backfill
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
        client = RutterClient(base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID,
                              client_secret=DEFAULT_CLIENT_SECRET)
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
    body = json.dumps({"type": "ORDER", "code": "ORDER_DELETED", "connection_id": "c1",
                       "order": {"id": "o1"}}).encode()
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
    body = json.dumps({"type": "ORDER", "code": "ORDER_DELETED", "connection_id": "c1",
                       "access_token": "tok-secret-123"}).encode()
    reply = post(receiver_url, body, sign(body, DEFAULT_CLIENT_SECRET))
    assert reply.json() == {"status": "quarantined"}
    [(reason, payload)] = quarantined(pg_engine)
    assert "no object id" in reason and "tok-secret-123" not in payload


def test_other_events_are_acknowledged(pg_engine, receiver_url):
    body = json.dumps({"type": "CONNECTION", "code": "INITIAL_UPDATE", "connection_id": "c1",
                       "access_token": "t"}).encode()
    assert post(receiver_url, body, sign(body, DEFAULT_CLIENT_SECRET)).json() == {"status": "ignored"}
