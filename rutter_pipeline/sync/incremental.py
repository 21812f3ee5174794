"""Incremental pulls: the changes of one endpoint for one connection since its stored watermark."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.catalog import Endpoint, Incremental, Kind
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.connections import Connection, serves
from rutter_pipeline.rutter.errors import NotSupported
from rutter_pipeline.rutter.paging import Page
from rutter_pipeline.rutter.timeutil import iso_to_ms, to_ms
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sync.batches import DEFAULT_BATCH_SIZE, batches, commit_batch
from rutter_pipeline.sync.periods import recent_periods
from rutter_pipeline.sync.summary import SyncSummary, counting_retries
from rutter_pipeline.sync.watermarks import FreshnessPolicy, incremental_stream, safe_commerce_watermark
from rutter_pipeline.warehouse import sync_state
from rutter_pipeline.warehouse.transactions import in_transaction

log = logging.getLogger("rutter_pipeline.sync")


@dataclass(frozen=True)
class PullContext:
    """What every kind of incremental pull works with: one endpoint of one connection, from one watermark.

    Attributes:
        since: the stored watermark in Unix ms; None before the first pull.
        stream: the watermark's stream name (`incremental:<table>`).
        summary: the figures of this pull, filled in as it goes.
    """

    client: RutterClient
    engine: Engine
    connection: Connection
    endpoint: Endpoint
    since: int | None
    stream: str
    summary: SyncSummary
    batch_size: int
    freshness: FreshnessPolicy

    def batches(self, pages: Iterable[Page]) -> Iterator[list[dict]]:
        """The pages' objects in batches of about `batch_size`, counted in the summary."""
        return batches(pages, batch_size=self.batch_size, summary=self.summary)

    def load(self, objects: list[dict], *, watermark_ms: int | None = None) -> None:
        """Merge one batch in a transaction of its own, counted in the summary; with the watermark, if given."""
        commit_batch(
            self.engine,
            endpoint=self.endpoint,
            connection_id=self.connection.id,
            objects=objects,
            summary=self.summary,
            then=None if watermark_ms is None else lambda tx: self.write_watermark(tx, watermark_ms),
        )

    def write_watermark(self, tx: DbConnection, watermark_ms: int) -> None:
        """Store the stream's watermark in the caller's transaction."""
        sync_state.write_watermark(tx, connection_id=self.connection.id, stream=self.stream, watermark_ms=watermark_ms)


def incremental(
    *,
    client: RutterClient,
    engine: Engine,
    connection: Connection,
    endpoint: Endpoint,
    batch_size: int = DEFAULT_BATCH_SIZE,
    freshness: FreshnessPolicy = FreshnessPolicy(),
) -> SyncSummary:
    """Pull what changed in `endpoint` for `connection` since the stored watermark and merge it.

    Accounting: `last_synced_at_min` (inclusive) in ascending order; the watermark advances with every committed
    batch, in the batch's own transaction, so a crash resumes exactly where it stopped. Commerce: `updated_at_min`
    from a watermark that allows for Rutter's refresh lag (see `watermarks.py`), written with the last batch.
    Endpoints without a change filter (statements, company info, payouts) are pulled again whole, statements for
    the previous and the current month.

    Returns:
        The summary; `status="not_applicable"` when the connection's platform does not serve the endpoint.
    """
    summary = SyncSummary(connection_id=connection.id, endpoint=endpoint.name, mode="incremental")
    if not serves(connection, endpoint):
        return summary.not_applicable(f"{connection.platform} does not serve {endpoint.path}")
    stream = incremental_stream(endpoint.name)
    with engine.connect() as db:
        since = sync_state.read_watermark(db, connection_id=connection.id, stream=stream)
    pull = {
        Incremental.LAST_SYNCED_AT: _pull_by_last_synced_at,
        Incremental.UPDATED_AT: _pull_by_updated_at,
        Incremental.SNAPSHOT: _pull_snapshot,
    }[endpoint.incremental]
    try:
        with counting_retries(client, summary):
            pull(
                PullContext(
                    client=client,
                    engine=engine,
                    connection=connection,
                    endpoint=endpoint,
                    since=since,
                    stream=stream,
                    summary=summary,
                    batch_size=batch_size,
                    freshness=freshness,
                )
            )
    except NotSupported as exc:
        return summary.not_applicable(f"{endpoint.path} is not supported for this connection ({exc.error_code})")
    log.info("incremental %s for connection %s: %s", endpoint.name, connection.id, summary.as_dict())
    return summary.finish()


def _pull_by_last_synced_at(ctx: PullContext) -> None:
    since = ctx.since
    # Re-read a few minutes before the watermark: cheap insurance against stamps that become visible late.
    query_from = None if since is None else max(since - ctx.freshness.clock_skew_ms, 0)
    pages = ctx.client.changed_pages(ctx.endpoint, access_token=ctx.connection.access_token, since_ms=query_from)
    high = since
    previous: int | None = None
    in_order = True
    for batch in ctx.batches(pages):
        known = [stamp for stamp in map(_stamp_ms, batch) if stamp is not None]
        if in_order and not _ascending(known, after=previous):
            in_order = False
            log.warning(
                "%s: the server did not return objects in last_synced_at order; the watermark will "
                "only advance when the pull completes",
                ctx.endpoint.path,
            )
        if known:
            previous = known[-1]
            high = max(known) if high is None else max(high, max(known))
        ctx.load(batch, watermark_ms=high if in_order else None)
    if not in_order and high is not None:
        reached = high
        in_transaction(ctx.engine, lambda tx: ctx.write_watermark(tx, reached))
    ctx.summary.watermark_ms = high


def _pull_by_updated_at(ctx: PullContext) -> None:
    started = datetime.now(UTC)
    connection = ctx.connection
    details = ctx.client.optional_connection_details(connection.access_token, connection_id=connection.id)
    sync_started = details.last_sync_started_at if details else None
    sync_completed = details.last_sync_completed_at if details else None
    target = safe_commerce_watermark(
        pull_started=started,
        last_sync_started_at=sync_started,
        last_sync_completed_at=sync_completed,
        policy=ctx.freshness,
    )
    if ctx.since is not None:
        target = max(target, ctx.since)
    pages = ctx.client.changed_pages(ctx.endpoint, access_token=connection.access_token, since_ms=ctx.since)
    _load_then_mark(ctx, ctx.batches(pages), watermark_ms=target)
    ctx.summary.watermark_ms = target


def _pull_snapshot(ctx: PullContext) -> None:
    started_ms = to_ms(datetime.now(UTC))
    pages: Iterable[Page]
    if ctx.endpoint.kind is Kind.REPORT:
        # Last month's statements still change while its books are being closed.
        pages = _period_pages(ctx)
    else:
        pages = ctx.client.changed_pages(ctx.endpoint, access_token=ctx.connection.access_token, since_ms=None)
    _load_then_mark(ctx, ctx.batches(pages), watermark_ms=started_ms)
    ctx.summary.watermark_ms = started_ms


def _period_pages(ctx: PullContext) -> Iterator[Page]:
    for start_ms, end_ms in recent_periods():
        yield from ctx.client.window_pages(
            ctx.endpoint,
            access_token=ctx.connection.access_token,
            window=Window(start_ms, end_ms, period=(start_ms, end_ms)),
        )


def _load_then_mark(ctx: PullContext, groups: Iterable[list[dict]], *, watermark_ms: int) -> None:
    """Merge every batch; the watermark is written in the transaction of the last one."""
    pending: list[dict] | None = None
    for batch in groups:
        if pending is not None:
            ctx.load(pending)
        pending = batch
    if pending is not None:
        ctx.load(pending, watermark_ms=watermark_ms)
    else:
        in_transaction(ctx.engine, lambda tx: ctx.write_watermark(tx, watermark_ms))


def _ascending(stamps: list[int], *, after: int | None) -> bool:
    """Whether stamps continue an ascending sequence whose last element was `after`."""
    if after is not None and stamps and stamps[0] < after:
        return False
    return all(a <= b for a, b in itertools.pairwise(stamps))


def _stamp_ms(obj: dict) -> int | None:
    value = obj.get("last_synced_at") if isinstance(obj, dict) else None
    if not isinstance(value, str):
        return None  # the loader quarantines the object with its reason
    try:
        return iso_to_ms(value)
    except (TypeError, ValueError):
        return None  # the loader quarantines the object with its reason
