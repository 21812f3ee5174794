"""The warehouse database connection: the user's PostgreSQL or MySQL, or the embedded PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from rutter_pipeline.settings import database_url
from rutter_pipeline.warehouse.dialect import is_mysql
from rutter_pipeline.warehouse.embedded import DEFAULT_DATA_DIR, EmbeddedPostgres
from rutter_pipeline.warehouse.tables import SCHEMA

#: Strict mode makes MySQL refuse values that do not fit (too long, out of range) instead of silently
#: truncating them, so such rows reach the quarantine; UTC makes DATETIME columns mean UTC.
_MYSQL_SESSION = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'"


def warehouse_engine(url: str | None = None, *, data_dir: Path | None = None) -> sa.Engine:
    """Open the warehouse database.

    Args:
        url: a database URL in any form `settings.database_url` accepts (`postgresql://…`, `postgres://…`,
            `mysql://…`, ...); PostgreSQL is opened with psycopg 3. None starts (or attaches to) the embedded
            PostgreSQL and uses its database `rutter`.
        data_dir: where the embedded PostgreSQL keeps its files (default `./.rutter_pipeline`); only used
            when `url` is None.

    Returns:
        An Engine; call `schema.upgrade(engine)` before loading.
    """
    if url is None:
        url = EmbeddedPostgres(data_dir or DEFAULT_DATA_DIR).url(database="rutter")
    engine = sa.create_engine(database_url(url, name="WAREHOUSE_URL"), pool_pre_ping=True)
    if is_mysql(engine):
        sa.event.listen(engine, "connect", _configure_mysql_session)
        # MySQL has no schemas inside a database: the tables of schema `rutter` live in the database itself.
        engine = engine.execution_options(schema_translate_map={SCHEMA: None})
    return engine


def _configure_mysql_session(dbapi_connection, _record) -> None:  # noqa: ANN001 - driver objects
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_MYSQL_SESSION)
    finally:
        cursor.close()
