"""Bring a database to the current schema with the Alembic migrations shipped inside the package."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from rutter_pipeline.warehouse.dialect import is_mysql, schema_of
from rutter_pipeline.warehouse.tables import SCHEMA

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: Alembic's bookkeeping table; named so that it cannot collide with the user's own `alembic_version`.
VERSION_TABLE = "_schema_version"

#: Held while migrating, so that processes starting together do not race to create the same tables.
_LOCK_NAME = "rutter_pipeline_schema"
_PG_LOCK_KEY = 0x52757474  # any constant bigint shared by every process of this project
_MYSQL_LOCK_TIMEOUT_S = 300


def _config(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    config.attributes["version_table"] = VERSION_TABLE
    config.attributes["version_table_schema"] = schema_of(conn)
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of the package."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None before the first upgrade."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "version_table_schema": schema_of(conn)}
        )
        return context.get_current_revision()


def upgrade(engine: sa.Engine) -> None:
    """Create or update the warehouse tables so the database matches this version of the package.

    Safe to call from several processes at once: the migration runs under a database lock (PostgreSQL advisory
    lock, MySQL `GET_LOCK`), and a database already at head is left untouched.

    Args:
        engine: the warehouse database.
    """
    if is_mysql(engine):
        _upgrade_mysql(engine)
    else:
        _upgrade_postgres(engine)


def _upgrade_postgres(engine: sa.Engine) -> None:
    # PostgreSQL DDL is transactional: the whole upgrade commits at once, and the lock ends with it.
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        command.upgrade(_config(conn), "head")


def _upgrade_mysql(engine: sa.Engine) -> None:
    # MySQL commits every DDL statement on its own, so the lock is a session lock released explicitly.
    with engine.connect() as conn:
        got = conn.execute(
            sa.text("SELECT GET_LOCK(:name, :timeout)"), {"name": _LOCK_NAME, "timeout": _MYSQL_LOCK_TIMEOUT_S}
        ).scalar()
        if got != 1:
            raise TimeoutError(f"another process held the schema lock for over {_MYSQL_LOCK_TIMEOUT_S}s")
        try:
            command.upgrade(_config(conn), "head")
            conn.commit()
        finally:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME})
