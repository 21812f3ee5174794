"""The connections the pipeline has seen, for reports and the marts (never their access tokens)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from rutter_pipeline.rutter.connections import Connection, ConnectionStatus
from rutter_pipeline.warehouse.dialect import stored_time, upsert
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
        changes = {key: value for key, value in values.items() if key not in ("id", "first_seen_at")}
        if status is None:
            # Keep the last known health rather than forgetting it.
            changes = {key: value for key, value in changes.items() if key not in _HEALTH}
        conn.execute(upsert(conn, connections, values, keys=["id"], changes=changes))


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
