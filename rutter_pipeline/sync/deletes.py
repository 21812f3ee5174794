"""Apply deletions: Rutter drops deleted objects from its lists and reports them on `/events`."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.catalog import BY_DELETED_RESOURCE, Endpoint, Family
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.rutter.errors import NotSupported
from rutter_pipeline.rutter.object_ids import find_object_id
from rutter_pipeline.rutter.timeutil import parse_iso, to_ms
from rutter_pipeline.sync.batches import DEFAULT_BATCH_SIZE, batches
from rutter_pipeline.sync.summary import SyncSummary, counting_retries
from rutter_pipeline.sync.watermarks import DELETES_STREAM, FreshnessPolicy
from rutter_pipeline.warehouse import sync_state
from rutter_pipeline.warehouse.loader import mark_deleted
from rutter_pipeline.warehouse.quarantine import quarantine_rows

log = logging.getLogger("rutter_pipeline.sync")

EVENTS = "events"


def apply_deletes(
    *,
    client: RutterClient,
    engine: Engine,
    connection: Connection,
    batch_size: int = DEFAULT_BATCH_SIZE,
    freshness: FreshnessPolicy = FreshnessPolicy(),
) -> SyncSummary:
    """Mark the objects Rutter reports as deleted since this connection's deletes watermark.

    Rows are kept with `_deleted_at` set (an object that reappears later with a newer version is live again);
    an event naming an object not copied yet leaves a tombstone so an older copy cannot resurrect it. An event
    whose object id cannot be found is quarantined with its reason. Commerce connections report deletions only
    through webhooks, so for them this is "not applicable".
    """
    summary = SyncSummary(connection_id=connection.id, endpoint=EVENTS, mode="deletes")
    if connection.family is Family.COMMERCE:
        return summary.not_applicable("commerce deletions are reported only by webhooks")
    with engine.connect() as db:
        since = sync_state.read_watermark(db, connection_id=connection.id, stream=DELETES_STREAM)
    query_from = None if since is None else max(since - freshness.clock_skew_ms, 0)
    high = since
    try:
        with counting_retries(client, summary):
            pages = client.deleted_event_pages(
                access_token=connection.access_token, since_ms=query_from, resources=sorted(BY_DELETED_RESOURCE)
            )
            for batch in batches(pages, batch_size=batch_size, summary=summary):
                deletions, rejects, batch_high = _sort_events(batch)
                with engine.begin() as tx:
                    for endpoint, items in deletions.items():
                        summary.deleted += mark_deleted(
                            tx, endpoint=endpoint, connection_id=connection.id, deletions=items
                        )
                    if rejects:
                        summary.quarantined += quarantine_rows(
                            tx, endpoint=EVENTS, connection_id=connection.id, rejects=rejects
                        )
                    if batch_high is not None:
                        high = batch_high if high is None else max(high, batch_high)
                        sync_state.write_watermark(
                            tx, connection_id=connection.id, stream=DELETES_STREAM, watermark_ms=high
                        )
    except NotSupported as exc:
        return summary.not_applicable(f"/events is not supported for this connection ({exc.error_code})")
    summary.watermark_ms = high
    log.info("deletes for connection %s: %s", connection.id, summary.as_dict())
    return summary.finish()


def _sort_events(
    events: list[dict],
) -> tuple[dict[Endpoint, list[tuple[str, datetime]]], list[tuple[object, str]], int | None]:
    """Group events by the endpoint they delete from; set aside the ones that cannot be applied."""
    deletions: dict[Endpoint, list[tuple[str, datetime]]] = defaultdict(list)
    rejects: list[tuple[object, str]] = []
    high: int | None = None
    for event in events:
        reason, endpoint, object_id, deleted_at = _read_event(event)
        if reason:
            rejects.append((event, reason))
            continue
        deletions[endpoint].append((object_id, deleted_at))
        stamp = to_ms(deleted_at)
        high = stamp if high is None else max(high, stamp)
    return deletions, rejects, high


def _read_event(event: object) -> tuple[str, Any, Any, Any]:
    """(reason, endpoint, object id, deleted at); reason is empty when the event can be applied."""
    if not isinstance(event, dict):
        return "event is not a JSON object", None, None, None
    endpoint = BY_DELETED_RESOURCE.get(str(event.get("resource", "")).upper())
    if endpoint is None:
        return f"unknown resource {event.get('resource')!r}", None, None, None
    stamp = event.get("last_synced_at")
    try:
        if not isinstance(stamp, str):
            raise TypeError(stamp)
        deleted_at = parse_iso(stamp)
    except (TypeError, ValueError):
        return f"unparsable last_synced_at {stamp!r}", None, None, None
    object_id = find_object_id(event.get("data"))
    if not object_id:
        return "event data carries no object id", None, None, None
    return "", endpoint, object_id, deleted_at
