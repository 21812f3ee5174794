"""What a materialization shows in the UI: the sync figures and a preview of the rows written."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.rutter.timeutil import ms_to_iso
from rutter_pipeline.sync import SyncSummary
from rutter_pipeline.warehouse.tables import connections, raw_table

PREVIEW_ROWS = 5
#: The pull's own figures as one JSON value, read back as data by `rutter-pipeline sync`'s summary.
FIGURES = "rutter/figures"
_PREVIEW_COLUMNS = 4


def connection_health(engine: sa.Engine, connection_id: str) -> str:
    """The connection's health as the last survey recorded it in `_connections`, in a few words."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                connections.c.is_disabled,
                connections.c.needs_update,
                connections.c.is_healthy,
                connections.c.last_sync_completed_at,
            ).where(connections.c.id == connection_id)
        ).first()
    if row is None or row.is_healthy is None:
        return "unknown (not surveyed yet)"
    state = (
        "disabled"
        if row.is_disabled
        else "needs re-authentication"
        if row.needs_update
        else "healthy"
        if row.is_healthy
        else "unhealthy"
    )
    last = row.last_sync_completed_at
    return f"{state}; Rutter's last completed sync: {last.isoformat() if last else 'never'}"


def summary_metadata(summary: SyncSummary, *, pull: str) -> dict[str, Any]:
    """Metadata of one sync call: row counts, pages, retries, watermark, duration.

    Args:
        summary: what the sync engine reported.
        pull: `backfill` or `incremental`, so every materialization says which kind of pull wrote it.
    """
    metadata: dict[str, Any] = {
        "pull": pull,
        "status": "not applicable" if summary.status == "not_applicable" else summary.status,
        "dagster/row_count": dg.IntMetadataValue(summary.fetched),
        "inserted": summary.inserted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "quarantined": summary.quarantined,
        "pages": summary.pages,
        "retries": summary.retries,
        "duration_s": dg.FloatMetadataValue(summary.seconds),
        FIGURES: dg.JsonMetadataValue(
            {
                "endpoint": summary.endpoint,
                "fetched": summary.fetched,
                "written": summary.written,
                "seconds": summary.seconds,
            }
        ),
    }
    if summary.deleted:
        metadata["deleted"] = summary.deleted
    if summary.watermark_ms is not None:
        metadata["watermark"] = ms_to_iso(summary.watermark_ms)
    if summary.note:
        metadata["note"] = summary.note
    return metadata


def preview(engine: sa.Engine, *, endpoint: Endpoint, connection_id: str) -> dg.MarkdownMetadataValue:
    """A markdown table of the connection's most recently written rows of this endpoint."""
    table = raw_table(endpoint)
    typed = [table.c[column.name] for column in endpoint.columns[:_PREVIEW_COLUMNS]]
    query = (
        sa.select(table.c.id, *typed, table.c.updated_at, table.c._synced_at)
        .where(table.c.connection_id == connection_id, table.c._deleted_at.is_(None))
        .order_by(table.c._synced_at.desc(), table.c.id)
        .limit(PREVIEW_ROWS)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all())
    if frame.empty:
        return dg.MarkdownMetadataValue("_no rows_")
    return dg.MarkdownMetadataValue(frame.to_markdown(index=False))
