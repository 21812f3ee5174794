"""What a verified webhook changes in the warehouse."""

from __future__ import annotations

import logging
import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.webhooks import WebhookEvent
from rutter_pipeline.warehouse.loader import mark_deleted
from rutter_pipeline.warehouse.quarantine import quarantine_rows
from rutter_pipeline.webhooks.events import kind_of
from rutter_pipeline.webhooks.inbox import QUEUED, without_secrets

log = logging.getLogger("rutter_pipeline.webhooks")

#: Rutter drops deleted commerce objects from its lists and reports them only through these webhooks.
DELETED_BY_WEBHOOK = {"ORDER": get("orders"), "PRODUCT": get("products")}

WEBHOOKS = "webhooks"
_TOKEN_IN_JSON = re.compile(r'("access_token"\s*:\s*")[^"]*(")')


def apply_event(tx: sa.Connection, event: WebhookEvent, *, received_at: datetime) -> str:
    """Apply one event in the caller's transaction; returns what happened: `deleted`, `quarantined`, `queued`
    or `ignored`.

    Readiness and change events are `queued`: Dagster's webhook sensors register the connection or pull its
    changes (`events.py`). Others need no action.

    Args:
        tx: a connection inside the transaction that marks the event processed.
        event: the verified event.
        received_at: when the event was first received, taken as the deletion time.
    """
    if kind_of(event) is not None:
        return QUEUED
    endpoint = DELETED_BY_WEBHOOK.get(event.entity or "")
    if event.action != "DELETED" or endpoint is None:
        return "ignored"
    if not event.object_id:
        quarantine_rows(
            tx,
            endpoint=WEBHOOKS,
            connection_id=event.connection_id,
            rejects=[(without_secrets(event.payload), f"{event.code} carries no object id")],
        )
        return "quarantined"
    mark_deleted(tx, endpoint=endpoint, connection_id=event.connection_id, deletions=[(event.object_id, received_at)])
    log.info(
        "%s: %s %s of connection %s marked deleted", event.code, endpoint.name, event.object_id, event.connection_id
    )
    return "deleted"


def quarantine_body(engine: Engine, body: bytes, reason: str) -> None:
    """Keep a signed body that is not a valid event aside, with access tokens removed."""
    text = _TOKEN_IN_JSON.sub(r"\1***\2", body.decode("utf-8", errors="replace"))
    with engine.begin() as tx:
        quarantine_rows(tx, endpoint=WEBHOOKS, connection_id="unknown", rejects=[(text, reason)])
