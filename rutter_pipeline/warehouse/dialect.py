"""What differs between the two warehouses, PostgreSQL and MySQL/MariaDB, in one place.

Everything else in `warehouse/` asks this module rather than looking at the dialect itself: which database it
is, where the tables live, how an instant is stored, how a row is written once or replaced, what the staging
table of a batch is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.warehouse.tables import SCHEMA


def is_mysql(conn: sa.Connection | sa.Engine) -> bool:
    """Whether the database is MySQL or MariaDB."""
    return conn.dialect.name in ("mysql", "mariadb")


def schema_of(conn: sa.Connection | sa.Engine) -> str | None:
    """The schema holding the tables: `rutter` on PostgreSQL; None on MySQL, where they live in the database."""
    return None if is_mysql(conn) else SCHEMA


def naive_utc(value: Any) -> Any:
    """An aware datetime as naive UTC (MySQL DATETIME has no time zone); anything else unchanged."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def stored_time(conn: sa.Connection, moment: datetime) -> datetime:
    """An instant as the database stores it: aware UTC on PostgreSQL, naive UTC on MySQL.

    A naive `moment` is taken as UTC. MySQL sessions run in UTC (`warehouse_engine`), so naive UTC is right there.
    """
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return naive_utc(utc) if is_mysql(conn) else utc


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    keys: Sequence[str],
    changes: Mapping[str, Any],
) -> sa.Executable:
    """INSERT a row, or when its key exists, UPDATE it with `changes` (the key columns are `keys`)."""
    if is_mysql(conn):
        return mysql.insert(table).values(dict(values)).on_duplicate_key_update(dict(changes))
    return (
        postgresql.insert(table)
        .values(dict(values))
        .on_conflict_do_update(index_elements=list(keys), set_=dict(changes))
    )


def upsert_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
) -> sa.Executable:
    """INSERT rows (each with the same columns) in one statement; a row whose key exists has its `update` columns
    set to the new row's values instead (the key columns are `keys`)."""
    if is_mysql(conn):
        insert = mysql.insert(table).values([dict(row) for row in rows])
        return insert.on_duplicate_key_update({column: insert.inserted[column] for column in update})
    statement = postgresql.insert(table).values([dict(row) for row in rows])
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={column: statement.excluded[column] for column in update}
    )


def insert_if_absent(conn: sa.Connection, table: sa.Table, values: Mapping[str, Any], *, key: str) -> sa.Executable:
    """INSERT a row unless a row with the same `key` exists (then nothing changes)."""
    if is_mysql(conn):
        insert = mysql.insert(table).values(dict(values))
        # MySQL has no "do nothing": setting the key to itself changes nothing.
        return insert.on_duplicate_key_update({key: insert.inserted[key]})
    return postgresql.insert(table).values(dict(values)).on_conflict_do_nothing(index_elements=[key])


def stage_name(endpoint: Endpoint) -> str:
    """The temporary table a batch of the endpoint is staged in before it is merged."""
    return f"_stage_{endpoint.name}"
