"""Every list endpoint of the catalog, and connection health.

Adds the raw tables of the eight list endpoints not copied before (subscriptions, customer groups, accounting
transactions, bank deposits, bank transfers, currencies, locations, payment terms), and to `_connections` the
connection's health (`is_healthy`) and when Rutter last finished syncing it (`last_sync_completed_at`).

The tables and typed columns are a frozen snapshot of the catalog when this revision was written, with their
own type definitions: later catalog changes arrive as new revisions.

Revision ID: 0005_every_endpoint_and_health
Revises: 0004_webhook_events
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision = "0005_every_endpoint_and_health"
down_revision = "0004_webhook_events"
branch_labels = None
depends_on = None

# (table, version field, has last_synced_at, "typed_column:type ...")
_RAW_TABLES = (
    ("subscriptions", "updated_at", False, "platform_customer_id:text status:text iso_currency_code:text"),
    ("customer_groups", "updated_at", False, "name:text"),
    ("accounting_locations", "last_synced_at", True, "name:text status:text parent_id:text has_children:boolean"),
    (
        "accounting_payment_terms",
        "last_synced_at",
        True,
        "term_name:text due_days:numeric discount_days:numeric discount_percent:numeric",
    ),
    ("accounting_currencies", "last_synced_at", True, "currency_code:text currency_name:text"),
    (
        "accounting_transactions",
        "last_synced_at",
        True,
        "rutter_transaction_id:text rutter_transaction_type:text platform_url:text transaction_date:timestamp",
    ),
    (
        "accounting_bank_deposits",
        "last_synced_at",
        True,
        "account_id:text subsidiary_id:text currency_code:text memo:text platform_url:text total_amount:numeric transaction_date:timestamp",
    ),
    (
        "accounting_bank_transfers",
        "last_synced_at",
        True,
        "credit_account_id:text debit_account_id:text class_id:text department_id:text location_id:text subsidiary_id:text currency_code:text memo:text platform_url:text total_amount:numeric transaction_date:timestamp",
    ),
)

_MYSQL = ("mysql", "mariadb")


def _key() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _text() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _timestamp() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=3), *_MYSQL)


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


_TYPES: dict[str, Callable[[], sa.types.TypeEngine]] = {
    "text": _text,
    "numeric": lambda: sa.Numeric(38, 9),
    "timestamp": _timestamp,
    "boolean": sa.Boolean,
    "integer": sa.BigInteger,
}


def _schema() -> str | None:
    return None if op.get_bind().dialect.name in _MYSQL else "rutter"


def _create_raw_table(name: str, version_field: str | None, has_last_synced_at: bool, typed: str) -> None:
    schema = _schema()
    columns = [
        sa.Column("id", _key(), primary_key=True),
        sa.Column("connection_id", _key(), nullable=False),
        sa.Column("platform_id", _key()),
        sa.Column("created_at", _timestamp()),
        sa.Column("updated_at", _timestamp()),
    ]
    if has_last_synced_at:
        columns.append(sa.Column("last_synced_at", _timestamp()))
    for spec in typed.split():
        column, type_name = spec.split(":")
        columns.append(sa.Column(column, _TYPES[type_name]()))
    columns += [
        sa.Column("data", _json(), nullable=False),
        sa.Column("_deleted_at", _timestamp()),
        sa.Column("_synced_at", _timestamp(), nullable=False),
    ]
    op.create_table(name, *columns, schema=schema)
    op.create_index(f"ix_{name}_connection_platform", name, ["connection_id", "platform_id"], schema=schema)
    if version_field:
        op.create_index(f"ix_{name}_connection_{version_field}", name, ["connection_id", version_field], schema=schema)


def upgrade() -> None:
    for name, version_field, has_last_synced_at, typed in _RAW_TABLES:
        _create_raw_table(name, version_field, has_last_synced_at, typed)
    op.add_column("_connections", sa.Column("is_healthy", sa.Boolean()), schema=_schema())
    op.add_column("_connections", sa.Column("last_sync_completed_at", _timestamp()), schema=_schema())


def downgrade() -> None:
    schema = _schema()
    op.drop_column("_connections", "last_sync_completed_at", schema=schema)
    op.drop_column("_connections", "is_healthy", schema=schema)
    for name, *_ in reversed(_RAW_TABLES):
        op.drop_table(name, schema=schema)
