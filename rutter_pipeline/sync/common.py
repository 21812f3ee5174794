"""Pieces every sync mode shares: applicability, batch loading, retry accounting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection as DbConnection

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.sync.batches import objects_by_month
from rutter_pipeline.sync.summary import SyncSummary
from rutter_pipeline.warehouse.loader import load_batch


def serves(connection: Connection, endpoint: Endpoint) -> bool:
    """Whether the connection's platform can serve the endpoint (unknown platforms are tried)."""
    family = connection.family
    return family is None or family is endpoint.family


def not_applicable(summary: SyncSummary, why: str) -> SyncSummary:
    """Close a summary as "not applicable": the platform does not serve this object type."""
    summary.status = "not_applicable"
    summary.note = why
    return summary.finish()


def load_into(tx: DbConnection, *, endpoint: Endpoint, connection_id: str, objects: list[dict],
              summary: SyncSummary) -> None:
    """Merge one batch inside the caller's transaction and add its counts to the summary."""
    result = load_batch(tx, endpoint=endpoint, connection_id=connection_id, objects=objects)
    summary.inserted += result.inserted
    summary.updated += result.updated
    summary.unchanged += result.unchanged
    summary.quarantined += result.quarantined
    summary.sanitized += result.sanitized
    if result.inserted or result.updated:
        by_month = objects_by_month(endpoint, objects)
        summary.months_touched |= set(by_month)
        summary.rows_by_month.update(by_month)


@contextmanager
def counting_retries(client, summary: SyncSummary) -> Iterator[None]:
    """Attribute the client's retries during the block to this summary.

    The client may be shared by threads; the figure is then an upper bound for this call.
    """
    before = client.stats.retries
    try:
        yield
    finally:
        summary.retries += client.stats.retries - before
