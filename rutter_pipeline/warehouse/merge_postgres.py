"""PostgreSQL: COPY a batch into a temporary staging table, then merge it with one INSERT … ON CONFLICT."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

if TYPE_CHECKING:
    import psycopg

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.warehouse.dialect import stage_name
from rutter_pipeline.warehouse.rows import Prepared, column_names
from rutter_pipeline.warehouse.tables import SCHEMA


def _copy_text(text: str) -> str:
    """Escape a string for COPY's text format (backslash escapes, tab between fields, \\N for NULL)."""
    # Checking first is much faster than always escaping: most values contain none of these characters.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_field(value: Any) -> str:
    # The most frequent types first: this runs for every column of every row.
    if type(value) is str:
        return _copy_text(value)
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return _copy_text(value)
    return str(value)


def copy_buffer(rows: Sequence[Prepared]) -> bytes:
    """The rows in COPY text format (UTF-8): the typed columns, then `data`."""
    lines = []
    for row in rows:
        fields = "\t".join([_copy_field(value) for value in row.values])
        # JSON text has its tabs and newlines escaped already, so only backslashes need COPY's escaping; the
        # text stays bytes as orjson wrote it, never decoded and encoded again.
        lines.append(b"%s\t%s\n" % (fields.encode("utf-8"), row.data.replace(b"\\", b"\\\\")))
    return b"".join(lines)


def _has_lz4(conn: sa.Connection) -> bool:
    """Whether the server can compress with lz4 (PostgreSQL 14+ built with it); asked once per connection."""
    known = conn.info.get("lz4")
    if known is None:
        known = conn.info["lz4"] = bool(
            conn.execute(
                sa.text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
            ).scalar()
        )
    return bool(known)


@functools.cache
def _merge_sql(endpoint: Endpoint) -> str:
    columns = (*column_names(endpoint), "data")
    target = f"{SCHEMA}.{endpoint.name}"
    listed = ", ".join(columns)
    assignments = [f"{c} = EXCLUDED.{c}" for c in columns if c != "id"]
    assignments += ["connection_id = EXCLUDED.connection_id", "_synced_at = EXCLUDED._synced_at"]
    version = endpoint.version_field
    if version:
        # A strictly newer version than the deletion means the object reappeared in Rutter.
        assignments.append(
            f"_deleted_at = CASE WHEN EXCLUDED.{version} > t._deleted_at THEN NULL ELSE t._deleted_at END"
        )
        newer_or_equal = f"(EXCLUDED.{version} IS NULL OR t.{version} IS NULL OR EXCLUDED.{version} >= t.{version})"
        changed = f"(EXCLUDED.{version} IS DISTINCT FROM t.{version} OR EXCLUDED.data IS DISTINCT FROM t.data)"
        condition = f"{newer_or_equal} AND {changed}"
    else:
        assignments.append("_deleted_at = NULL")
        condition = "EXCLUDED.data IS DISTINCT FROM t.data OR t._deleted_at IS NOT NULL"
    # ORDER BY id: concurrent writers lock overlapping rows in the same order and cannot deadlock.
    return (
        f"INSERT INTO {target} AS t ({listed}, connection_id, _deleted_at, _synced_at) "
        f"SELECT {listed}, :connection_id, NULL, :synced_at FROM pg_temp.{stage_name(endpoint)} ORDER BY id "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(assignments)} WHERE {condition} "
        "RETURNING (xmax = 0) AS inserted"
    )


def merge(
    conn: sa.Connection, *, endpoint: Endpoint, connection_id: str, rows: Sequence[Prepared], synced_at: datetime
) -> tuple[int, int]:
    """Stage and merge rows (one per id) into the endpoint's table.

    Returns:
        (inserted, updated); the other rows were unchanged or stale.
    """
    stage = stage_name(endpoint)
    columns = ", ".join((*column_names(endpoint), "data"))
    if _has_lz4(conn):
        # `data` is usually large enough to be compressed: lz4 costs the server far less CPU than the default
        # pglz. It applies to the values written in this transaction; the columns keep no method of their own.
        conn.execute(sa.text("SET LOCAL default_toast_compression = lz4"))
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {SCHEMA}.{endpoint.name} WITH NO DATA"
        )
    )
    conn.execute(sa.text(f"TRUNCATE pg_temp.{stage}"))
    # psycopg 3's COPY: the batch goes to the server as one text-format stream of bytes.
    driver = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
    with driver.cursor() as cursor, cursor.copy(f"COPY pg_temp.{stage} ({columns}) FROM STDIN") as copy:
        copy.write(copy_buffer(rows))
    flags: Sequence[Any] = (
        conn.execute(sa.text(_merge_sql(endpoint)), {"connection_id": connection_id, "synced_at": synced_at})
        .scalars()
        .all()
    )
    inserted = sum(1 for flag in flags if flag)
    return inserted, len(flags) - inserted
