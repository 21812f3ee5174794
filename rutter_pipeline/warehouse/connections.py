"""The connections the pipeline has seen, for reports and the marts (never their access tokens)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from rutter_pipeline.rutter.connections import Connection, ConnectionStatus
from rutter_pipeline.warehouse.dialect import stored_time, upsert_rows
from rutter_pipeline.warehouse.tables import connections

#: Fields read from `/connections/status`: kept as last known when a survey could not read the status.
_HEALTH = ("is_ready", "needs_update", "is_disabled", "is_healthy", "last_sync_completed_at")


def record_connections(
    conn: sa.Connection,
    *,
    seen: Sequence[Connection],
    statuses: Mapping[str, ConnectionStatus] | None = None,
    source: str | None = None,
) -> None:
    """Create or refresh one `_connections` row per connection, in the caller's transaction.

    Args:
        conn: a connection inside a transaction.
        seen: connections from `GET /connections`.
        statuses: their `/connections/status`, by connection id, where known.
        source: where they were listed: `sandbox` (the built-in sandbox) or the Rutter API URL.
    """
    now = stored_time(conn, datetime.now(UTC))
    # Rows with a status and rows without are written apart (the latter keep their health); a statement per
    # 500 rows, because at thousands of connections a statement per row is most of a sensor tick.
    with_status: dict[str, dict] = {}  # by id: a statement must not touch one row twice
    without_status: dict[str, dict] = {}
    for connection in seen:
        status = (statuses or {}).get(connection.id)
        values = {
            "id": connection.id,
            "platform": connection.platform,
            "family": connection.family.value if connection.family else None,
            "name": connection.name,
            "status": connection.status,
            "is_ready": status.is_ready if status else None,
            "needs_update": status.needs_update if status else None,
            "is_disabled": status.is_disabled if status else None,
            "is_healthy": status.is_healthy if status else None,
            "last_sync_completed_at": (
                stored_time(conn, status.last_sync_completed_at) if status and status.last_sync_completed_at else None
            ),
            "created_at": stored_time(conn, connection.created_at) if connection.created_at else None,
            "first_seen_at": now,
            "last_seen_at": now,
            "source": source,
        }
        (with_status if status is not None else without_status)[connection.id] = values
    for by_id, kept in ((with_status, ("id", "first_seen_at")), (without_status, ("id", "first_seen_at", *_HEALTH))):
        rows = list(by_id.values())
        update = [column for column in rows[0] if column not in kept] if rows else []
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            conn.execute(upsert_rows(conn, connections, chunk, keys=["id"], update=update))


_ROWS_PER_STATEMENT = 500


@dataclass(frozen=True)
class LastLook:
    """What the last survey read of a connection that was ready then."""

    #: The connection's `status` in `GET /connections` at that look (active, unhealthy, ...).
    listed_status: str | None
    is_healthy: bool | None
    last_sync_completed_at: datetime | None


def ready_at_last_look(conn: sa.Connection) -> dict[str, LastLook]:
    """The connections whose last read `/connections/status` said ready, neither needing re-authentication nor
    disabled, by id."""
    c = connections.c
    query = sa.select(c.id, c.status, c.is_healthy, c.last_sync_completed_at).where(
        c.is_ready.is_(True),
        sa.or_(c.needs_update.is_(None), c.needs_update.is_(False)),
        sa.or_(c.is_disabled.is_(None), c.is_disabled.is_(False)),
    )
    return {row.id: LastLook(row.status, row.is_healthy, row.last_sync_completed_at) for row in conn.execute(query)}
