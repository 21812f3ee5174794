"""The warehouse: raw tables, migrations, the loader, quarantine, sync state and the embedded PostgreSQL."""

from __future__ import annotations

from rutter_pipeline.warehouse.embedded import EmbeddedPostgres
from rutter_pipeline.warehouse.engine import warehouse_engine
from rutter_pipeline.warehouse.loader import LoadResult, load_batch, mark_deleted, quarantine_rows
from rutter_pipeline.warehouse.schema import upgrade
from rutter_pipeline.warehouse.sync_state import read_state, read_watermark, write_watermark
from rutter_pipeline.warehouse.tables import count_rows, raw_table

__all__ = [
    "EmbeddedPostgres",
    "LoadResult",
    "count_rows",
    "load_batch",
    "mark_deleted",
    "quarantine_rows",
    "raw_table",
    "read_state",
    "read_watermark",
    "upgrade",
    "warehouse_engine",
    "write_watermark",
]
