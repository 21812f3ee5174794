"""Webhook inbox: every verified webhook event, once per event id, and whether it was applied.

Revision ID: 0004_webhook_events
Revises: 0003_connection_source
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004_webhook_events"
down_revision = "0003_connection_source"
branch_labels = None
depends_on = None

_MYSQL = ("mysql", "mariadb")


def _key() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _long_text() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _timestamp() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=3), *_MYSQL)


def _schema() -> str | None:
    return None if op.get_bind().dialect.name in _MYSQL else "rutter"


def upgrade() -> None:
    op.create_table(
        "_webhook_events",
        sa.Column("event_id", _key(), primary_key=True),
        sa.Column("type", _key(), nullable=False),
        sa.Column("code", _key(), nullable=False),
        sa.Column("connection_id", _key(), nullable=False),
        sa.Column("received_at", _timestamp(), nullable=False),
        sa.Column("processed_at", _timestamp()),
        sa.Column("outcome", _key()),
        sa.Column("payload", _long_text(), nullable=False),
        schema=_schema(),
    )
    op.create_index("ix__webhook_events_processed_at", "_webhook_events", ["processed_at"], schema=_schema())


def downgrade() -> None:
    op.drop_table("_webhook_events", schema=_schema())
