"""Connections: which Rutter connections exist, their platform and health (never their access token).

Revision ID: 0002_connections
Revises: 0001_initial
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002_connections"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_MYSQL = ("mysql", "mariadb")


def _key() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _text() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)


def _timestamp() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=3), *_MYSQL)


def upgrade() -> None:
    op.create_table(
        "_connections",
        sa.Column("id", _key(), primary_key=True),
        sa.Column("platform", _key(), nullable=False),
        sa.Column("family", _key()),
        sa.Column("name", _text()),
        sa.Column("status", _key()),
        sa.Column("is_ready", sa.Boolean()),
        sa.Column("needs_update", sa.Boolean()),
        sa.Column("is_disabled", sa.Boolean()),
        sa.Column("created_at", _timestamp()),
        sa.Column("first_seen_at", _timestamp(), nullable=False),
        sa.Column("last_seen_at", _timestamp(), nullable=False),
        schema=None if op.get_bind().dialect.name in _MYSQL else "rutter",
    )


def downgrade() -> None:
    op.drop_table("_connections", schema=None if op.get_bind().dialect.name in _MYSQL else "rutter")
