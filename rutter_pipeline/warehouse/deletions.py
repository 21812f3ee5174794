"""Record deletions reported by Rutter: mark rows deleted, or leave a tombstone for ids not loaded yet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.warehouse.dialect import insert_if_absent, stored_time
from rutter_pipeline.warehouse.tables import raw_table


def _mark_one(
    conn: sa.Connection,
    *,
    table: sa.Table,
    endpoint: Endpoint,
    connection_id: str,
    object_id: str,
    deleted_at: datetime,
    synced_at: datetime,
) -> bool:
    conditions = [
        table.c.id == object_id,
        table.c.connection_id == connection_id,
        sa.or_(table.c._deleted_at.is_(None), table.c._deleted_at < deleted_at),
    ]
    if endpoint.version_field:
        version = table.c[endpoint.version_field]
        # A version newer than the deletion is a later incarnation of the object: leave it alive.
        conditions.append(sa.or_(version.is_(None), version <= deleted_at))
    result = conn.execute(
        sa.update(table).where(*conditions).values(_deleted_at=deleted_at, _synced_at=synced_at),
    )
    return result.rowcount > 0


def _insert_tombstone(
    conn: sa.Connection,
    *,
    table: sa.Table,
    endpoint: Endpoint,
    connection_id: str,
    object_id: str,
    deleted_at: datetime,
    synced_at: datetime,
) -> bool:
    exists = conn.execute(sa.select(table.c.id).where(table.c.id == object_id)).first()
    if exists is not None:
        return False
    values = {
        "id": object_id,
        "connection_id": connection_id,
        "data": {"id": object_id},
        "_deleted_at": deleted_at,
        "_synced_at": synced_at,
    }
    if endpoint.version_field:
        # The tombstone carries the deletion time as its version, so any older copy counts as stale.
        values[endpoint.version_field] = deleted_at
    conn.execute(insert_if_absent(conn, table, values, key="id"))
    return True


def mark_deleted(
    conn: sa.Connection, *, endpoint: Endpoint, connection_id: str, deletions: Sequence[tuple[str, datetime]]
) -> int:
    """Mark objects deleted in Rutter, inside the caller's transaction.

    A stored row whose version is at or before the deletion time gets `_deleted_at`; an id not stored yet gets
    a tombstone row (data `{"id": ...}`, version = deletion time) so that a slower backfill carrying an older
    copy cannot bring it back. Only a strictly newer version clears `_deleted_at` again (see `load_batch`).

    Args:
        conn: a connection inside an open transaction.
        endpoint: the endpoint whose objects were deleted.
        connection_id: the Rutter connection they belong to.
        deletions: (object id, deletion time) pairs; naive times are taken as UTC.

    Returns:
        How many rows were marked or tombstoned.
    """
    table = raw_table(endpoint)
    synced_at = stored_time(conn, datetime.now(UTC))
    changed = 0
    for object_id, when in deletions:
        if not isinstance(object_id, str) or not object_id:
            raise ValueError(f"deleted object id must be a non-empty string, got {object_id!r}")
        arguments: dict[str, Any] = {
            "table": table,
            "endpoint": endpoint,
            "connection_id": connection_id,
            "object_id": object_id,
            "deleted_at": stored_time(conn, when),
            "synced_at": synced_at,
        }
        if _mark_one(conn, **arguments) or _insert_tombstone(conn, **arguments):
            changed += 1
    return changed
