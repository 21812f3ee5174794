"""Connections say where they came from: `source` is `sandbox` for the built-in sandbox, else the Rutter API URL.

Revision ID: 0003_connection_source
Revises: 0002_connections
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003_connection_source"
down_revision = "0002_connections"
branch_labels = None
depends_on = None

_MYSQL = ("mysql", "mariadb")


def _schema() -> str | None:
    return None if op.get_bind().dialect.name in _MYSQL else "rutter"


def upgrade() -> None:
    text = sa.Text().with_variant(mysql.MEDIUMTEXT(charset="utf8mb4", collation="utf8mb4_bin"), *_MYSQL)
    op.add_column("_connections", sa.Column("source", text), schema=_schema())


def downgrade() -> None:
    op.drop_column("_connections", "source", schema=_schema())
