"""Write a batch of received objects into their raw table, inside the caller's transaction.

Rules (see docs/schema.md): a row is only replaced by an equal-or-newer version; bad items go to the
quarantine and the rest of the batch still loads; NULs are replaced; deletions leave tombstones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.warehouse import merge_mysql, merge_postgres
from rutter_pipeline.warehouse.deletions import mark_deleted
from rutter_pipeline.warehouse.dialect import is_mysql
from rutter_pipeline.warehouse.quarantine import quarantine_rows
from rutter_pipeline.warehouse.rows import Prepared, Rejected, nesting_depth, prepare
from rutter_pipeline.warehouse.transactions import is_lock_conflict

#: MariaDB's JSON_VALID (the check of its JSON type) refuses documents nested deeper than this.
MYSQL_JSON_NESTING = 32

__all__ = ["LoadResult", "load_batch", "mark_deleted", "quarantine_rows"]


@dataclass(frozen=True)
class LoadResult:
    """What one `load_batch` did. `inserted + updated + unchanged + quarantined` equals the objects given.

    Attributes:
        inserted: new rows.
        updated: rows replaced by an equal-or-newer version with different content.
        unchanged: objects identical to the stored row, older than it (stale), or an older duplicate of another
            object in the same batch.
        quarantined: objects that could not be loaded and went to `_quarantine`.
        sanitized: loaded objects in which NUL characters were replaced with U+FFFD.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    sanitized: int = 0


def _newest_per_id(rows: list[Prepared]) -> list[Prepared]:
    """One row per id, the newest version (the later one on ties or unknown versions)."""
    newest: dict[str, Prepared] = {}
    for row in rows:
        kept = newest.get(row.id)
        if kept is None or kept.version is None or row.version is None or row.version >= kept.version:
            newest[row.id] = row
    return list(newest.values())


def _database_errors(conn: sa.Connection) -> tuple[type[BaseException], ...]:
    # COPY goes through the driver directly, so its errors arrive unwrapped.
    return (sa.exc.DBAPIError, conn.dialect.loaded_dbapi.Error)


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__


def _refusal(conn: sa.Connection, row: Prepared, error: BaseException) -> str:
    """Why the database refused one row, in words when the cause is known."""
    if is_mysql(conn) and nesting_depth(row.data.decode("utf-8")) > MYSQL_JSON_NESTING:
        return f"nested deeper than {MYSQL_JSON_NESTING} levels, the most MariaDB's JSON type holds"
    return f"database rejected the row: {_first_line(error)}"


def _merge_isolating_rejects(
    conn: sa.Connection, *, endpoint: Endpoint, connection_id: str, rows: list[Prepared], synced_at: datetime
) -> tuple[int, int, list[Rejected]]:
    """Merge rows; if the database refuses, bisect under savepoints until the refused rows are isolated."""
    merge = merge_mysql.merge if is_mysql(conn) else merge_postgres.merge
    try:
        with conn.begin_nested():
            inserted, updated = merge(
                conn, endpoint=endpoint, connection_id=connection_id, rows=rows, synced_at=synced_at
            )
        return inserted, updated, []
    except _database_errors(conn) as error:
        if is_lock_conflict(error):
            # Not the rows' fault: the whole transaction is to run again (MySQL has already rolled it back).
            raise
        if len(rows) == 1:
            return 0, 0, [Rejected(rows[0].id, _refusal(conn, rows[0], error), rows[0].raw)]
    middle = len(rows) // 2
    inserted_a, updated_a, rejects_a = _merge_isolating_rejects(
        conn, endpoint=endpoint, connection_id=connection_id, rows=rows[:middle], synced_at=synced_at
    )
    inserted_b, updated_b, rejects_b = _merge_isolating_rejects(
        conn, endpoint=endpoint, connection_id=connection_id, rows=rows[middle:], synced_at=synced_at
    )
    return inserted_a + inserted_b, updated_a + updated_b, rejects_a + rejects_b


def load_batch(
    conn: sa.Connection, *, endpoint: Endpoint, connection_id: str, objects: Sequence[object], decoded: bool = False
) -> LoadResult:
    """Insert or update a batch of objects of one endpoint and connection.

    Runs in the caller's transaction (pass a connection from `engine.begin()`), so the caller can write the
    stream's watermark atomically with the data. Items that cannot be loaded are written to `_quarantine`
    in the same transaction; the rest of the batch loads. A lock conflict with a concurrent writer is raised
    as it is, for the caller to run its transaction again (`transactions.in_transaction`).

    Args:
        conn: a connection inside an open transaction.
        endpoint: the endpoint the objects were listed from.
        connection_id: the Rutter connection they belong to.
        objects: the decoded items of one or more pages.
        decoded: the objects come as `rutter.jsonbody.parse_body` decoded them from Rutter's answers (see
            `rows.prepare`), which lets their JSON text be written without the slower checks.

    Returns:
        Counts of inserted, updated, unchanged, quarantined and sanitized objects.
    """
    prepared: list[Prepared] = []
    rejects: list[Rejected] = []
    for item in objects:
        outcome = prepare(endpoint, item, decoded=decoded)
        if isinstance(outcome, Prepared):
            prepared.append(outcome)
        else:
            rejects.append(outcome)
    rows = _newest_per_id(prepared)
    synced_at = datetime.now(UTC)
    inserted = updated = 0
    refused: list[Rejected] = []
    if rows:
        inserted, updated, refused = _merge_isolating_rejects(
            conn, endpoint=endpoint, connection_id=connection_id, rows=rows, synced_at=synced_at
        )
    rejects += refused
    refused_ids = {reject.object_id for reject in refused}
    quarantined = quarantine_rows(conn, endpoint=endpoint, connection_id=connection_id, rejects=rejects)
    return LoadResult(
        inserted=inserted,
        updated=updated,
        unchanged=len(objects) - inserted - updated - quarantined,
        quarantined=quarantined,
        sanitized=sum(1 for row in rows if row.sanitized and row.id not in refused_ids),
    )
