"""MySQL/MariaDB: multi-row INSERT into a temporary staging table, then INSERT … SELECT … ON DUPLICATE KEY UPDATE.

MySQL has no `WHERE` on its upsert, so every assignment is guarded by the same `IF(newer, new, old)`. MySQL
evaluates the assignments left to right and later ones see the earlier results, so the columns the guard
reads (`data`, then the version column) are assigned last.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.warehouse.dialect import naive_utc, stage_name
from rutter_pipeline.warehouse.rows import Prepared, column_names


def _guard(endpoint: Endpoint, *, incoming: str) -> str:
    """SQL that is true when the incoming row should replace the stored one.

    Args:
        endpoint: whose table.
        incoming: how to spell an incoming column, as a format string (`VALUES({})` or `s.{}`).
    """
    table, version = endpoint.name, endpoint.version_field
    new_data = incoming.format("data")
    if version is None:
        return f"(NOT ({new_data} <=> {table}.data) OR {table}._deleted_at IS NOT NULL)"
    new_version, old_version = incoming.format(version), f"{table}.{version}"
    newer_or_equal = f"({new_version} IS NULL OR {old_version} IS NULL OR {new_version} >= {old_version})"
    changed = f"(NOT ({new_version} <=> {old_version}) OR NOT ({new_data} <=> {table}.data))"
    return f"({newer_or_equal} AND {changed})"


@functools.cache
def _merge_sql(endpoint: Endpoint) -> str:
    table, version = endpoint.name, endpoint.version_field
    columns = (*column_names(endpoint), "data")
    listed = ", ".join(columns)
    guard = _guard(endpoint, incoming="VALUES({})")
    first = [c for c in columns if c not in ("id", "data", version)] + ["connection_id", "_synced_at"]
    assignments = [f"{c} = IF({guard}, VALUES({c}), {table}.{c})" for c in first]
    if version:
        # A strictly newer version than the deletion means the object reappeared in Rutter.
        assignments.append(
            f"_deleted_at = IF({guard} AND VALUES({version}) > {table}._deleted_at, NULL, {table}._deleted_at)"
        )
    else:
        assignments.append(f"_deleted_at = IF({guard}, NULL, {table}._deleted_at)")
    assignments.append(f"data = IF({guard}, VALUES(data), {table}.data)")
    if version:
        assignments.append(f"{version} = IF({guard}, VALUES({version}), {table}.{version})")
    return (
        f"INSERT INTO {table} ({listed}, connection_id, _deleted_at, _synced_at) "
        f"SELECT {listed}, %s, NULL, %s FROM {stage_name(endpoint)} ORDER BY id "
        f"ON DUPLICATE KEY UPDATE {', '.join(assignments)}"
    )


@functools.cache
def _count_sql(endpoint: Endpoint) -> str:
    """Count what the merge will insert and update, locking the stored rows so the counts stay true."""
    table, stage = endpoint.name, stage_name(endpoint)
    guard = _guard(endpoint, incoming="s.{}")
    return (
        f"SELECT {table}.id IS NULL AS is_new, {guard} AS is_newer FROM {stage} s "
        f"LEFT JOIN {table} ON {table}.id = s.id ORDER BY s.id FOR UPDATE"
    )


def merge(
    conn: sa.Connection, *, endpoint: Endpoint, connection_id: str, rows: Sequence[Prepared], synced_at: datetime
) -> tuple[int, int]:
    """Stage and merge rows (one per id) into the endpoint's table.

    Returns:
        (inserted, updated); the other rows were unchanged or stale.
    """
    stage = stage_name(endpoint)
    columns = (*column_names(endpoint), "data")
    listed = ", ".join(columns)
    conn.execute(
        sa.text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS SELECT {listed} FROM {endpoint.name} LIMIT 0")
    )
    conn.execute(sa.text(f"DELETE FROM {stage}"))
    cursor = conn.connection.cursor()
    try:
        placeholders = ", ".join(["%s"] * len(columns))
        # pymysql turns executemany of one INSERT … VALUES into a few large multi-row statements.
        cursor.executemany(
            f"INSERT INTO {stage} ({listed}) VALUES ({placeholders})",
            [(*(naive_utc(value) for value in row.values), row.data.decode("utf-8")) for row in rows],
        )
        cursor.execute(_count_sql(endpoint))
        counted = cursor.fetchall()
        cursor.execute(_merge_sql(endpoint), (connection_id, naive_utc(synced_at)))
    finally:
        cursor.close()
    inserted = sum(1 for is_new, _ in counted if is_new)
    updated = sum(1 for is_new, is_newer in counted if not is_new and is_newer)
    return inserted, updated
