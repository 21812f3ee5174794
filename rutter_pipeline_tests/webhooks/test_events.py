"""The inbox side the sensors read: which events start work, the batches waiting, settling a batch."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from rutter_pipeline.rutter.webhooks import parse_event, sign
from rutter_pipeline.sandbox import DEFAULT_CLIENT_SECRET
from rutter_pipeline.warehouse.tables import webhook_events
from rutter_pipeline.webhooks.events import Kind, kind_of, settle, waiting
from rutter_pipeline.webhooks.receiver import WebhookReceiver


def event(code: str, connection_id: str = "c1", **extra) -> bytes:
    kind = (
        "CONNECTION"
        if "_" not in code or code.startswith(("INITIAL", "HISTORICAL", "INCREMENTAL", "CONNECTION"))
        else code.split("_")[0]
    )
    return json.dumps({"type": kind, "code": code, "connection_id": connection_id, **extra}).encode()


def test_which_events_start_work() -> None:
    kinds = {
        code: kind_of(parse_event(event(code, order={"id": "o1"})))
        for code in (
            "INITIAL_UPDATE",
            "HISTORICAL_UPDATE",
            "INCREMENTAL_SYNC_COMPLETED",
            "CONNECTION_UPDATED",
            "ORDER_CREATED",
            "INVOICE_UPDATED",
            "INVOICE_DELETED",
            "ORDER_DELETED",
            "CONNECTION_NEEDS_UPDATE",
            "CONNECTION_DISABLED",
        )
    }
    assert kinds == {
        "INITIAL_UPDATE": Kind.READINESS,
        "HISTORICAL_UPDATE": Kind.READINESS,
        "INCREMENTAL_SYNC_COMPLETED": Kind.CHANGE,
        "CONNECTION_UPDATED": Kind.CHANGE,
        "ORDER_CREATED": Kind.CHANGE,
        "INVOICE_UPDATED": Kind.CHANGE,
        "INVOICE_DELETED": Kind.CHANGE,
        # Applied by the receiver; the merchant must act first.
        "ORDER_DELETED": None,
        "CONNECTION_NEEDS_UPDATE": None,
        "CONNECTION_DISABLED": None,
    }


def test_batches_wait_per_connection_and_settle_up_to_their_last_event(engine) -> None:
    receiver = WebhookReceiver(engine, DEFAULT_CLIENT_SECRET)

    def deliver(body: bytes) -> str:
        return receiver.handle(body, sign(body, DEFAULT_CLIENT_SECRET))[1]["status"]

    assert deliver(event("ORDER_CREATED", "c1", order={"id": "o1"})) == "queued"
    time.sleep(0.01)
    assert deliver(event("ORDER_UPDATED", "c1", order={"id": "o1"})) == "queued"
    assert deliver(event("INVOICE_UPDATED", "c2", invoice={"id": "i1"})) == "queued"
    assert deliver(event("INITIAL_UPDATE", "c3")) == "queued"
    assert deliver(event("ORDER_DELETED", "c1", order={"id": "o2"})) == "deleted"

    changes = waiting(engine, Kind.CHANGE)
    assert [(w.connection_id, w.count) for w in changes] == [("c1", 2), ("c2", 1)]
    assert changes[0].first_received_at < changes[0].last_received_at
    assert [(w.connection_id, w.count) for w in waiting(engine, Kind.READINESS)] == [("c3", 1)]

    # An event received after the batch was read stays queued for the next one.
    deliver(event("ORDER_UPDATED", "c1", order={"id": "o3"}))
    assert (
        settle(engine, Kind.CHANGE, connection_id="c1", received_until=changes[0].last_received_at, outcome="pulled")
        == 2
    )
    # The longest waiting first.
    assert [(w.connection_id, w.count) for w in waiting(engine, Kind.CHANGE)] == [("c2", 1), ("c1", 1)]
    with engine.connect() as db:
        outcomes = db.execute(
            sa.select(webhook_events.c.outcome, sa.func.count()).group_by(webhook_events.c.outcome)
        ).all()
    assert dict(outcomes) == {"pulled": 2, "queued": 3, "deleted": 1}
