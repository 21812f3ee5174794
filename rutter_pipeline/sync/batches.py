"""Turn a stream of API pages into database batches, and load each batch, one transaction each."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.sync.prefetch import prefetched
from rutter_pipeline.sync.summary import SyncSummary
from rutter_pipeline.warehouse.loader import LoadResult, load_batch
from rutter_pipeline.warehouse.transactions import in_transaction

log = logging.getLogger("rutter_pipeline.sync")

#: Objects per database transaction. Memory stays bounded by this, whatever the connection's size.
DEFAULT_BATCH_SIZE = 2_000

#: How often (in pages) a long pull reports its progress.
PROGRESS_EVERY_PAGES = 20


def batches(pages: Iterable, *, batch_size: int, summary: SyncSummary) -> Iterator[list[dict]]:
    """Group the objects of consecutive pages into lists of about `batch_size`, counting pages and objects.

    Pages are fetched ahead on a background thread (`prefetched`); at most one batch plus three pages are held
    in memory.
    """
    batch: list[dict] = []
    for page in prefetched(pages):
        summary.pages += 1
        summary.fetched += len(page.objects)
        batch.extend(page.objects)
        if summary.pages % PROGRESS_EVERY_PAGES == 0:
            log.info(
                "%s %s for connection %s: %d pages, %d objects so far",
                summary.mode,
                summary.endpoint,
                summary.connection_id,
                summary.pages,
                summary.fetched,
            )
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def months_of(endpoint: Endpoint, objects: Iterable[dict]) -> set[str]:
    """The `YYYY-MM` months of the objects' window timestamps (objects without one are left out)."""
    return set(objects_by_month(endpoint, objects))


def objects_by_month(endpoint: Endpoint, objects: Iterable[dict]) -> Counter[str]:
    """How many objects fall in each `YYYY-MM` month of their window timestamp (objects without one are left out)."""
    field = endpoint.window_by.field
    months: Counter[str] = Counter()
    if field is None:
        return months
    for obj in objects:
        value = obj.get(field) if isinstance(obj, dict) else None
        # ISO 8601 strings start with YYYY-MM; anything else is not a month we can place.
        if isinstance(value, str) and len(value) >= 7 and value[4] == "-" and value[:4].isdigit():
            months[value[:7]] += 1
    return months


def commit_batch(
    engine: Engine,
    *,
    endpoint: Endpoint,
    connection_id: str,
    objects: list[dict],
    summary: SyncSummary,
    then: Callable[[DbConnection], None] | None = None,
) -> None:
    """Merge one batch in a transaction of its own and add its counts to the summary once it is committed.

    Args:
        then: more to write in the same transaction after the batch (the stream's watermark).

    The transaction runs again from its start if it loses a race with a concurrent writer of the same table
    (another window of the connection, an incremental pull): `warehouse.transactions.in_transaction`.
    """

    def merge(tx: DbConnection) -> LoadResult:
        result = load_batch(tx, endpoint=endpoint, connection_id=connection_id, objects=objects, decoded=True)
        if then is not None:
            then(tx)
        return result

    result = in_transaction(engine, merge)
    summary.inserted += result.inserted
    summary.updated += result.updated
    summary.unchanged += result.unchanged
    summary.quarantined += result.quarantined
    summary.sanitized += result.sanitized
    if result.inserted or result.updated:
        by_month = objects_by_month(endpoint, objects)
        summary.months_touched |= set(by_month)
        summary.rows_by_month.update(by_month)
