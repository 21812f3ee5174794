"""Turn a stream of API pages into database batches, and load each batch, one transaction each."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator

from sqlalchemy.engine import Connection as DbConnection

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.sync.prefetch import prefetched
from rutter_pipeline.sync.summary import SyncSummary
from rutter_pipeline.warehouse.loader import load_batch

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


def load_into(
    tx: DbConnection, *, endpoint: Endpoint, connection_id: str, objects: list[dict], summary: SyncSummary
) -> None:
    """Merge one batch inside the caller's transaction and add its counts to the summary."""
    result = load_batch(tx, endpoint=endpoint, connection_id=connection_id, objects=objects, decoded=True)
    summary.inserted += result.inserted
    summary.updated += result.updated
    summary.unchanged += result.unchanged
    summary.quarantined += result.quarantined
    summary.sanitized += result.sanitized
    if result.inserted or result.updated:
        by_month = objects_by_month(endpoint, objects)
        summary.months_touched |= set(by_month)
        summary.rows_by_month.update(by_month)
