"""Which webhook events start work, and the inbox rows waiting for the sensors that start it. No Dagster here.

The receiver records every verified event. Two kinds are left in the inbox unprocessed (`processed_at IS
NULL`, outcome `queued`) for Dagster's sensors, which start the work and then settle them:

- **readiness**: the connection's data can be read (`INITIAL_UPDATE`), or its history is complete
  (`HISTORICAL_UPDATE`): register the connection and backfill its months.
- **change**: something changed at the platform (`<ENTITY>_CREATED|_UPDATED|_DELETED`, Rutter finished a sync,
  the merchant re-authenticated): pull the connection's changes.

Commerce deletions (`ORDER_DELETED`, `PRODUCT_DELETED`) are applied by the receiver itself and start nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.webhooks import WebhookEvent
from rutter_pipeline.warehouse.dialect import stored_time
from rutter_pipeline.warehouse.tables import webhook_events
from rutter_pipeline.webhooks.inbox import QUEUED


class Kind(str, Enum):
    """What an event starts."""

    READINESS = "readiness"
    CHANGE = "change"


READINESS_CODES = frozenset({"INITIAL_UPDATE", "HISTORICAL_UPDATE"})
#: Connection events that mean the connection has new data to pull.
CHANGE_CONNECTION_CODES = frozenset({"INCREMENTAL_SYNC_COMPLETED", "CONNECTION_UPDATED"})
#: Entity events the receiver applies completely.
APPLIED_BY_RECEIVER = frozenset({"ORDER_DELETED", "PRODUCT_DELETED"})


def kind_of(event: WebhookEvent) -> Kind | None:
    """The work an event starts, or None (applied by the receiver, or nothing to do)."""
    if event.code in READINESS_CODES:
        return Kind.READINESS
    if event.code in CHANGE_CONNECTION_CODES:
        return Kind.CHANGE
    if event.action is not None and event.code not in APPLIED_BY_RECEIVER:
        return Kind.CHANGE
    return None


def _codes_clause(kind: Kind) -> sa.ColumnElement[bool]:
    code = webhook_events.c.code
    if kind is Kind.READINESS:
        return code.in_(sorted(READINESS_CODES))
    # Every queued event that is not a readiness event asks for a pull.
    return code.not_in(sorted(READINESS_CODES))


@dataclass(frozen=True)
class Waiting:
    """The queued events of one kind for one connection."""

    connection_id: str
    count: int
    #: The earliest queued event: names the batch (a retried tick finds the same one).
    first_event_id: str
    first_received_at: datetime
    last_received_at: datetime


def waiting(engine: Engine, kind: Kind, *, limit: int = 200) -> list[Waiting]:
    """The connections with queued events of `kind`, the longest waiting first (at most `limit`)."""
    table = webhook_events
    pending = sa.and_(table.c.processed_at.is_(None), table.c.outcome == QUEUED, _codes_clause(kind))
    grouped = (
        sa.select(
            table.c.connection_id,
            # Not labelled `count`: a row is also a tuple, and the type checker reads `row.count` as tuple.count.
            sa.func.count().label("events"),
            sa.func.min(table.c.received_at).label("first"),
            sa.func.max(table.c.received_at).label("last"),
        )
        .where(pending)
        .group_by(table.c.connection_id)
        .order_by(sa.func.min(table.c.received_at), table.c.connection_id)
        .limit(limit)
    )
    found: list[Waiting] = []
    with engine.connect() as db:
        for row in db.execute(grouped).all():
            first_id: str = db.execute(
                sa.select(table.c.event_id)
                .where(pending, table.c.connection_id == row.connection_id, table.c.received_at == row.first)
                .order_by(table.c.event_id)
                .limit(1)
            ).scalar_one()
            found.append(Waiting(row.connection_id, row.events, first_id, _utc(row.first), _utc(row.last)))
    return found


def settle(engine: Engine, kind: Kind, *, connection_id: str, received_until: datetime, outcome: str) -> int:
    """Mark a connection's queued events of `kind` received up to `received_until` processed; returns how many.

    Events received later stay queued for the next batch.
    """
    table = webhook_events
    with engine.begin() as tx:
        return tx.execute(
            sa.update(table)
            .where(
                table.c.processed_at.is_(None),
                table.c.outcome == QUEUED,
                _codes_clause(kind),
                table.c.connection_id == connection_id,
                table.c.received_at <= stored_time(tx, _utc(received_until)),
            )
            .values(processed_at=stored_time(tx, datetime.now(UTC)), outcome=outcome[:255])
        ).rowcount


def settle_all(engine: Engine, kind: Kind, settled: Iterable[dict]) -> None:
    """`settle` each `{"connection_id", "received_until" (ISO 8601), "outcome"}` (as kept in a sensor cursor)."""
    for item in settled:
        settle(
            engine,
            kind,
            connection_id=item["connection_id"],
            received_until=datetime.fromisoformat(item["received_until"]),
            outcome=item["outcome"],
        )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
