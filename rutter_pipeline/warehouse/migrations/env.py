"""Alembic environment: runs on the connection that `schema.upgrade` hands over (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=context.config.attributes["version_table"],
    version_table_schema=context.config.attributes["version_table_schema"],
)
with context.begin_transaction():
    context.run_migrations()
