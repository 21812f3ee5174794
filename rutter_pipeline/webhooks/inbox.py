"""The webhook inbox, `rutter._webhook_events`: every verified event recorded once, then applied once.

Rutter may deliver one event several times (retries, replays). An event is first recorded in its own
transaction (a second delivery finds it there), then claimed under a row lock and applied in the transaction
that marks it processed, so concurrent deliveries of one event apply it once, and an event recorded but not
applied (a crash, a database error) is applied by the next delivery. An event whose work Dagster starts
(`events.py`) is left unprocessed with the outcome `queued`; the sensors read those rows and mark them
processed once their runs are requested.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.webhooks import WebhookEvent
from rutter_pipeline.warehouse.dialect import insert_if_absent, stored_time
from rutter_pipeline.warehouse.tables import webhook_events

#: What a second delivery of an applied event is answered with.
DUPLICATE = "duplicate"
#: The outcome of an event left for a Dagster sensor, which starts its work and then marks it processed.
QUEUED = "queued"


def event_id(event: WebhookEvent, body: bytes) -> str:
    """The event's identity: its `event_id` when the body has one, else the SHA-256 of the signed body.

    Rutter's bodies carry no documented id; a redelivery sends the same signed bytes, so their digest names
    the event.
    """
    given = event.payload.get("event_id")
    if isinstance(given, str) and given:
        return given
    return "sha256:" + hashlib.sha256(body).hexdigest()


def without_secrets(payload: dict) -> dict:
    """The event without its access token (tokens never reach the database)."""
    return {key: ("***" if key == "access_token" else value) for key, value in payload.items()}


def record(engine: Engine, event: WebhookEvent, *, event_id: str, received_at: datetime) -> None:
    """Record a verified event unless it is recorded already (committed before anything is applied)."""
    values: dict[str, object] = {
        "event_id": event_id,
        "type": event.type,
        "code": event.code,
        "connection_id": event.connection_id,
        "payload": json.dumps(without_secrets(event.payload), ensure_ascii=True),
    }
    with engine.begin() as tx:
        values["received_at"] = stored_time(tx, received_at)
        tx.execute(insert_if_absent(tx, webhook_events, values, key="event_id"))


def apply_once(engine: Engine, event_id: str, apply: Callable[[sa.Connection, datetime], str]) -> str:
    """Apply a recorded event unless it was applied already; returns the outcome, or `duplicate`.

    Args:
        engine: the warehouse.
        event_id: the recorded event.
        apply: does the work inside the given transaction, with the time the event was first received (so
            a replay changes nothing, not even a timestamp); returns the outcome to record (`queued` leaves
            the event unprocessed, for a sensor).
    """
    table = webhook_events
    with engine.begin() as tx:
        claimed = tx.execute(
            sa.select(table.c.received_at, table.c.outcome)
            .where(table.c.event_id == event_id, table.c.processed_at.is_(None))
            .with_for_update()
        ).first()
        if claimed is None or claimed.outcome == QUEUED:
            return DUPLICATE
        received_at = claimed.received_at
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=UTC)
        outcome = apply(tx, received_at)
        processed_at = None if outcome == QUEUED else stored_time(tx, datetime.now(UTC))
        tx.execute(
            sa.update(table).where(table.c.event_id == event_id).values(processed_at=processed_at, outcome=outcome)
        )
    return outcome
