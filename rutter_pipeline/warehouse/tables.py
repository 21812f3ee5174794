"""The warehouse tables, built from the endpoint catalog: one raw table per endpoint, quarantine, sync state.

PostgreSQL keeps them in schema `rutter`; MySQL has no schemas inside a database, so there the tables live in
the connected database itself (`warehouse_engine` maps the schema away). The Alembic migrations create the same
tables; a test compares the migrated database with this module so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from rutter_pipeline.rutter.catalog import ENDPOINTS, ColumnType, Endpoint

SCHEMA = "rutter"

#: Longest id, connection id, platform id or stream name MySQL can hold (they are VARCHAR there, indexed).
MYSQL_KEY_LENGTH = 255

metadata = sa.MetaData(schema=SCHEMA)


def key_type() -> sa.types.TypeEngine:
    """Ids and other indexed strings: unbounded text on PostgreSQL, case-sensitive VARCHAR(255) on MySQL."""
    return sa.Text().with_variant(
        mysql.VARCHAR(MYSQL_KEY_LENGTH, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def text_type() -> sa.types.TypeEngine:
    """Free text: MEDIUMTEXT on MySQL, whose TEXT stops at 64 KB."""
    return sa.Text().with_variant(mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


def long_text_type() -> sa.types.TypeEngine:
    """Whole payloads kept as text (quarantine): LONGTEXT on MySQL."""
    return sa.Text().with_variant(mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


def timestamp_type() -> sa.types.TypeEngine:
    """UTC instants: timestamptz on PostgreSQL, DATETIME(3) holding UTC on MySQL."""
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")


def json_type() -> sa.types.TypeEngine:
    """The object as received: JSONB on PostgreSQL, JSON on MySQL."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


_TYPED: dict[ColumnType, Callable[[], sa.types.TypeEngine]] = {
    ColumnType.TEXT: text_type,
    ColumnType.NUMERIC: lambda: sa.Numeric(38, 9),
    ColumnType.TIMESTAMP: timestamp_type,
    ColumnType.BOOLEAN: sa.Boolean,
    ColumnType.INTEGER: sa.BigInteger,
}


def column_type(column_type_: ColumnType) -> sa.types.TypeEngine:
    """The SQL type of a typed catalog column."""
    return _TYPED[column_type_]()


def _build_raw_table(endpoint: Endpoint) -> sa.Table:
    columns: list[sa.Column] = [
        sa.Column("id", key_type(), primary_key=True),
        sa.Column("connection_id", key_type(), nullable=False),
        sa.Column("platform_id", key_type()),
        sa.Column("created_at", timestamp_type()),
        sa.Column("updated_at", timestamp_type()),
    ]
    if endpoint.has_last_synced_at:
        columns.append(sa.Column("last_synced_at", timestamp_type()))
    columns += [sa.Column(c.name, column_type(c.type)) for c in endpoint.columns]
    columns += [
        sa.Column("data", json_type(), nullable=False),
        sa.Column("_deleted_at", timestamp_type()),
        sa.Column("_synced_at", timestamp_type(), nullable=False),
    ]
    indexes = [sa.Index(f"ix_{endpoint.name}_connection_platform", "connection_id", "platform_id")]
    if endpoint.version_field:
        indexes.append(
            sa.Index(f"ix_{endpoint.name}_connection_{endpoint.version_field}", "connection_id", endpoint.version_field)
        )
    return sa.Table(endpoint.name, metadata, *columns, *indexes)


_RAW_TABLES: dict[str, sa.Table] = {e.name: _build_raw_table(e) for e in ENDPOINTS}


def raw_table(endpoint: Endpoint) -> sa.Table:
    """The raw table of an endpoint (`rutter.orders`, `rutter.accounting_invoices`, ...)."""
    return _RAW_TABLES[endpoint.name]


quarantine = sa.Table(
    "_quarantine",
    metadata,
    sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
    sa.Column("endpoint", key_type(), nullable=False),
    sa.Column("connection_id", key_type(), nullable=False),
    sa.Column("object_id", text_type()),
    sa.Column("reason", text_type(), nullable=False),
    sa.Column("payload", long_text_type(), nullable=False),
    sa.Column("received_at", timestamp_type(), nullable=False),
    sa.Index("ix__quarantine_connection_endpoint", "connection_id", "endpoint"),
)

sync_state = sa.Table(
    "_sync_state",
    metadata,
    sa.Column("connection_id", key_type(), primary_key=True),
    sa.Column("stream", key_type(), primary_key=True),
    sa.Column("watermark_ms", sa.BigInteger()),
    sa.Column("updated_at", timestamp_type(), nullable=False),
    sa.Column("details", json_type()),
)

connections = sa.Table(
    "_connections",
    metadata,
    sa.Column("id", key_type(), primary_key=True),
    sa.Column("platform", key_type(), nullable=False),
    sa.Column("family", key_type()),
    sa.Column("name", text_type()),
    sa.Column("status", key_type()),
    sa.Column("is_ready", sa.Boolean()),
    sa.Column("needs_update", sa.Boolean()),
    sa.Column("is_disabled", sa.Boolean()),
    sa.Column("created_at", timestamp_type()),
    sa.Column("first_seen_at", timestamp_type(), nullable=False),
    sa.Column("last_seen_at", timestamp_type(), nullable=False),
    # `sandbox` for the built-in sandbox's invented companies, else the Rutter API URL they were listed from.
    sa.Column("source", text_type()),
    # In the order the migrations add them (0003, then 0005), so a migrated table matches this one.
    sa.Column("is_healthy", sa.Boolean()),
    sa.Column("last_sync_completed_at", timestamp_type()),
)

#: The webhook inbox: every verified event once (by event id), and when and how it was applied.
webhook_events = sa.Table(
    "_webhook_events",
    metadata,
    sa.Column("event_id", key_type(), primary_key=True),
    sa.Column("type", key_type(), nullable=False),
    sa.Column("code", key_type(), nullable=False),
    sa.Column("connection_id", key_type(), nullable=False),
    sa.Column("received_at", timestamp_type(), nullable=False),
    sa.Column("processed_at", timestamp_type()),
    sa.Column("outcome", key_type()),
    sa.Column("payload", long_text_type(), nullable=False),
    sa.Index("ix__webhook_events_processed_at", "processed_at"),
)


def count_rows(
    conn: sa.Connection, endpoint: Endpoint, *, connection_id: str | None = None, live_only: bool = True
) -> int:
    """Count rows of an endpoint's raw table.

    Args:
        conn: an open connection.
        endpoint: whose table to count.
        connection_id: only this connection's rows, when given.
        live_only: leave out rows marked deleted (`_deleted_at` set).

    Returns:
        The number of rows.
    """
    table = raw_table(endpoint)
    query = sa.select(sa.func.count()).select_from(table)
    if connection_id is not None:
        query = query.where(table.c.connection_id == connection_id)
    if live_only:
        query = query.where(table.c._deleted_at.is_(None))
    return int(conn.execute(query).scalar_one())
