"""The embedded PostgreSQL starts in a fresh directory (also as root), serves the warehouse, and is shared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.warehouse import EmbeddedPostgres, count_rows, load_batch, schema, warehouse_engine

_OTHER_PROCESS = """
import sys
import sqlalchemy as sa
from rutter_pipeline.warehouse import EmbeddedPostgres
url = EmbeddedPostgres(sys.argv[1]).url(database="dagster")
with sa.create_engine(url).connect() as conn:
    print(conn.execute(sa.text("SELECT pg_postmaster_start_time()")).scalar())
"""


def test_embedded_postgres_serves_the_warehouse_and_other_processes(tmp_path: Path) -> None:
    embedded = EmbeddedPostgres(tmp_path)
    try:
        engine = warehouse_engine(embedded.url(database="rutter"))
        schema.upgrade(engine)
        with engine.begin() as conn:
            load_batch(conn, endpoint=get("orders"), connection_id="c1", objects=[{"id": "o1"}])
        with engine.connect() as conn:
            assert count_rows(conn, get("orders")) == 1
            started = str(conn.execute(sa.text("SELECT pg_postmaster_start_time()")).scalar())
        engine.dispose()

        other = subprocess.run(
            [sys.executable, "-c", _OTHER_PROCESS, str(tmp_path)], capture_output=True, text=True, timeout=60
        )
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip() == started  # the second process attached to the same server

        info = embedded.connection_info("dagster")
        assert info["user"] == "postgres" and info["database"] == "dagster"
        assert Path(str(info["host"])).is_dir() and isinstance(info["port"], int)
        assert (tmp_path / "pgdata" / "PG_VERSION").exists()
    finally:
        embedded.stop()
