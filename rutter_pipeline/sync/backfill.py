"""Backfill: copy everything in one time window of one endpoint for one connection."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.catalog import Endpoint, Incremental
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.connections import Connection, serves
from rutter_pipeline.rutter.errors import NotSupported
from rutter_pipeline.rutter.timeutil import to_ms
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sync.batches import DEFAULT_BATCH_SIZE, batches, commit_batch
from rutter_pipeline.sync.summary import SyncSummary, counting_retries
from rutter_pipeline.sync.watermarks import (
    FreshnessPolicy,
    backfill_stream,
    incremental_stream,
    safe_commerce_watermark,
)
from rutter_pipeline.warehouse import sync_state
from rutter_pipeline.warehouse.transactions import in_transaction

log = logging.getLogger("rutter_pipeline.sync")


def backfill(
    *,
    client: RutterClient,
    engine: Engine,
    connection: Connection,
    endpoint: Endpoint,
    window: Window,
    month: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    freshness: FreshnessPolicy = FreshnessPolicy(),
) -> SyncSummary:
    """Copy every object of `endpoint` in `window` for `connection` into the warehouse.

    The first window (no start) also takes everything older, the latest (no end) everything up to now; how the
    window reaches the API is the endpoint's `window_by` (see docs/architecture.md). Each batch is merged in its
    own transaction, so a crash loses at most the batch in flight and a rerun converges.

    Before reading, the incremental watermark of the endpoint is lowered (never raised) to a point from which the
    incremental pull will catch whatever changes while this backfill runs.

    When it completes, the stream `backfill:<table>:<month>` (or `<start>-<end>` in Unix ms without a month) is
    written to `_sync_state`: the warehouse's own record that this window is loaded, which decides what later
    syncs backfill (a window the platform does not support is recorded too, as loaded with nothing).

    Args:
        month: the month partition (`YYYY-MM`) the window is, recorded as the stream's label.

    Returns:
        The summary; `status="not_applicable"` when the connection's platform does not serve the endpoint.
    """
    summary = SyncSummary(connection_id=connection.id, endpoint=endpoint.name, mode="backfill")
    if not serves(connection, endpoint):
        return summary.not_applicable(f"{connection.platform} does not serve {endpoint.path}")
    started = datetime.now(UTC)
    _hold_incremental_watermark(client, engine, connection, endpoint, started, freshness)
    try:
        with counting_retries(client, summary):
            pages = client.window_pages(endpoint, access_token=connection.access_token, window=window)
            for batch in batches(pages, batch_size=batch_size, summary=summary):
                commit_batch(engine, endpoint=endpoint, connection_id=connection.id, objects=batch, summary=summary)
    except NotSupported as exc:
        summary.not_applicable(f"{endpoint.path} is not supported for this connection ({exc.error_code})")
    in_transaction(
        engine,
        lambda tx: sync_state.write_watermark(
            tx,
            connection_id=connection.id,
            stream=backfill_stream(endpoint.name, month or _label(window)),
            watermark_ms=to_ms(started),
            details={"fetched": summary.fetched, "pages": summary.pages, "status": summary.status},
        ),
    )
    if summary.status == "not_applicable":
        return summary
    summary.watermark_ms = to_ms(started)
    log.info("backfill %s %s for connection %s: %s", endpoint.name, window, connection.id, summary.as_dict())
    return summary.finish()


def _hold_incremental_watermark(
    client: RutterClient,
    engine: Engine,
    connection: Connection,
    endpoint: Endpoint,
    started: datetime,
    freshness: FreshnessPolicy,
) -> None:
    """Lower the incremental watermark so changes made during this backfill are pulled later."""
    if endpoint.incremental is Incremental.SNAPSHOT:
        return
    if endpoint.incremental is Incremental.LAST_SYNCED_AT:
        # Anything Rutter re-syncs from now on is stamped later than this.
        candidate = to_ms(started) - freshness.clock_skew_ms
    else:
        # Optional metadata: without it (404 for some platforms, or persistent 5xx) the watermark falls back
        # to the policy's fixed lookback, as incremental pulls do.
        details = client.optional_connection_details(connection.access_token, connection_id=connection.id)
        candidate = safe_commerce_watermark(
            pull_started=started,
            last_sync_started_at=details.last_sync_started_at if details else None,
            last_sync_completed_at=details.last_sync_completed_at if details else None,
            policy=freshness,
        )
    stream = incremental_stream(endpoint.name)

    def lower(tx: DbConnection) -> None:
        # Atomic: backfills of other windows of this connection may be lowering it at the same time.
        sync_state.lower_watermark(
            tx, connection_id=connection.id, stream=stream, watermark_ms=candidate, details={"set_by": "backfill"}
        )

    in_transaction(engine, lower)


def _label(window: Window) -> str:
    start = "start" if window.start_ms is None else str(window.start_ms)
    end = "now" if window.end_ms is None else str(window.end_ms)
    return f"{start}-{end}"
