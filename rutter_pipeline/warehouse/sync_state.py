"""Per-connection, per-stream progress: the watermark the next pull starts from.

Streams are named `incremental:<table>`, `deletes`, `backfill:<table>:<window>`. Write the watermark in the
same transaction as the data it covers, so a rollback loses both and nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rutter_pipeline.warehouse.dialect import stored_time, upsert
from rutter_pipeline.warehouse.tables import sync_state

BACKFILL_PREFIX = "backfill:"


@dataclass(frozen=True)
class StreamState:
    """One row of `_sync_state`.

    Attributes:
        connection_id: the Rutter connection.
        stream: what was pulled (`incremental:orders`, `deletes`, ...).
        watermark_ms: Unix milliseconds the next pull starts from; None when not known yet.
        updated_at: when the row was last written (UTC).
        details: extra figures recorded with the watermark.
    """

    connection_id: str
    stream: str
    watermark_ms: int | None
    updated_at: datetime
    details: dict[str, Any] | None


def read_watermark(conn: sa.Connection, *, connection_id: str, stream: str) -> int | None:
    """The stream's watermark in Unix milliseconds, or None if it was never written (or written as None)."""
    query = sa.select(sync_state.c.watermark_ms).where(
        sync_state.c.connection_id == connection_id, sync_state.c.stream == stream
    )
    value = conn.execute(query).scalar_one_or_none()
    return None if value is None else int(value)


def write_watermark(
    conn: sa.Connection,
    *,
    connection_id: str,
    stream: str,
    watermark_ms: int | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Create or replace the stream's watermark, in the caller's transaction.

    Args:
        conn: a connection inside the transaction that also wrote the data.
        connection_id: the Rutter connection.
        stream: the stream name.
        watermark_ms: Unix milliseconds the next pull starts from.
        details: optional JSON-serialisable figures to keep beside it (never secrets).
    """
    if watermark_ms is not None and (isinstance(watermark_ms, bool) or not isinstance(watermark_ms, int)):
        raise TypeError(f"watermark_ms must be an int of Unix milliseconds, got {watermark_ms!r}")
    now = stored_time(conn, datetime.now(UTC))
    values = _row(connection_id, stream, watermark_ms, now, details)
    changes = {"watermark_ms": watermark_ms, "updated_at": now, "details": details}
    conn.execute(upsert(conn, sync_state, values, keys=["connection_id", "stream"], changes=changes))


def lower_watermark(
    conn: sa.Connection, *, connection_id: str, stream: str, watermark_ms: int, details: dict[str, Any] | None = None
) -> None:
    """Lower the stream's watermark to `watermark_ms` (or create it), never raise it; atomic.

    Backfills of several windows of one connection run at the same time, each lowering the watermark to a point
    before its own start: whatever the order, the lowest stays (a read-then-write could keep a higher one).
    """
    now = stored_time(conn, datetime.now(UTC))
    column = sync_state.c.watermark_ms
    mine = (sync_state.c.connection_id == connection_id) & (sync_state.c.stream == stream)
    lowered = conn.execute(
        sa.update(sync_state)
        .where(mine, column.is_(None) | (column > watermark_ms))
        .values(watermark_ms=watermark_ms, updated_at=now, details=details)
    ).rowcount
    if lowered:
        return
    # No row to lower: create it; one created meanwhile by another backfill keeps the lower of the two.
    values = _row(connection_id, stream, watermark_ms, now, details)
    least = sa.func.least(sa.func.coalesce(column, watermark_ms), watermark_ms)
    conn.execute(upsert(conn, sync_state, values, keys=["connection_id", "stream"], changes={"watermark_ms": least}))


def _row(
    connection_id: str, stream: str, watermark_ms: int | None, now: datetime, details: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "stream": stream,
        "watermark_ms": watermark_ms,
        "updated_at": now,
        "details": details,
    }


def backfilled_by_connection(conn: sa.Connection, *, connection_ids: Sequence[str]) -> dict[str, dict[str, set[str]]]:
    """The windows whose backfill completed, by connection and table: `{connection_id: {"orders": {"2025-03"}}}`.

    Read from the `backfill:<table>:<window>` streams, so it is a fact about this warehouse: a new or restored
    database has none and gets its backfill again. Every connection asked for is in the answer (with no tables
    when nothing was backfilled); one query per 1,000 connections, so planning thousands of connections does not
    pay a round trip each.
    """
    done: dict[str, dict[str, set[str]]] = {cid: {} for cid in connection_ids}
    ids = sorted(done)
    for start in range(0, len(ids), _IDS_PER_QUERY):
        query = sa.select(sync_state.c.connection_id, sync_state.c.stream).where(
            sync_state.c.connection_id.in_(ids[start : start + _IDS_PER_QUERY]),
            sync_state.c.stream.startswith(BACKFILL_PREFIX),
        )
        for row in conn.execute(query):
            table, _, window = str(row.stream)[len(BACKFILL_PREFIX) :].partition(":")
            done[str(row.connection_id)].setdefault(table, set()).add(window)
    return done


#: Ids per `IN (...)` list: well inside every database's limit on bound parameters.
_IDS_PER_QUERY = 1000


def forget_backfill(conn: sa.Connection, *, connection_id: str, window: str) -> int:
    """Drop the record that a window was backfilled (every table), so the next sync loads it again."""
    statement = sa.delete(sync_state).where(
        sync_state.c.connection_id == connection_id,
        sync_state.c.stream.startswith(BACKFILL_PREFIX),
        sync_state.c.stream.endswith(f":{window}"),
    )
    return conn.execute(statement).rowcount


def read_state(conn: sa.Connection, *, connection_id: str | None = None) -> list[StreamState]:
    """Every stream's state (of one connection, when given), ordered by connection and stream."""
    query = sa.select(sync_state).order_by(sync_state.c.connection_id, sync_state.c.stream)
    if connection_id is not None:
        query = query.where(sync_state.c.connection_id == connection_id)
    rows = conn.execute(query).all()
    return [
        StreamState(
            connection_id=row.connection_id,
            stream=row.stream,
            watermark_ms=None if row.watermark_ms is None else int(row.watermark_ms),
            updated_at=row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC),
            details=row.details,
        )
        for row in rows
    ]
