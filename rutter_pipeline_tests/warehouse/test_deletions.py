"""mark_deleted: deletion marks, tombstones for unseen ids, and when an object comes back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.warehouse import count_rows, load_batch, mark_deleted
from rutter_pipeline_tests.warehouse.conftest import stored

INVOICES = get("accounting_invoices")
DELETED_AT = datetime(2024, 3, 1, tzinfo=UTC)


def invoice(object_id: str, synced: str, status: str = "OPEN") -> dict:
    return {"id": object_id, "last_synced_at": synced, "status": status}


def load(engine: sa.Engine, objects: list[dict]):
    with engine.begin() as conn:
        return load_batch(conn, endpoint=INVOICES, connection_id="conn_1", objects=objects)


def delete(engine: sa.Engine, deletions: list[tuple[str, datetime]]) -> int:
    with engine.begin() as conn:
        return mark_deleted(conn, endpoint=INVOICES, connection_id="conn_1", deletions=deletions)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def test_existing_rows_are_marked_only_when_not_newer_than_the_deletion(engine: sa.Engine) -> None:
    load(engine, [invoice("old", "2024-02-01T00:00:00Z"), invoice("newer", "2024-04-01T00:00:00Z")])
    assert delete(engine, [("old", DELETED_AT), ("newer", DELETED_AT)]) == 1
    assert delete(engine, [("old", DELETED_AT)]) == 0  # repeated event: nothing changes
    rows = stored(engine, INVOICES)
    assert _utc(rows["old"]["_deleted_at"]) == DELETED_AT
    assert rows["newer"]["_deleted_at"] is None
    with engine.connect() as conn:
        assert count_rows(conn, INVOICES) == 1
        assert count_rows(conn, INVOICES, live_only=False) == 2
        assert count_rows(conn, INVOICES, connection_id="other", live_only=False) == 0


def test_unseen_ids_get_a_tombstone_that_a_slower_backfill_cannot_resurrect(engine: sa.Engine) -> None:
    assert delete(engine, [("ghost", DELETED_AT)]) == 1
    tombstone = stored(engine, INVOICES)["ghost"]
    assert tombstone["data"] == {"id": "ghost"}
    assert _utc(tombstone["last_synced_at"]) == DELETED_AT and _utc(tombstone["_deleted_at"]) == DELETED_AT
    assert load(engine, [invoice("ghost", "2024-02-01T00:00:00Z")]).unchanged == 1
    assert stored(engine, INVOICES)["ghost"]["_deleted_at"] is not None


def test_a_strictly_newer_version_brings_the_object_back(engine: sa.Engine) -> None:
    load(engine, [invoice("inv", "2024-02-01T00:00:00Z")])
    delete(engine, [("inv", DELETED_AT)])
    load(engine, [invoice("inv", "2024-03-01T00:00:00Z", status="SAME_TIME")])
    row = stored(engine, INVOICES)["inv"]
    assert row["status"] == "SAME_TIME" and row["_deleted_at"] is not None
    assert load(engine, [invoice("inv", "2024-03-02T00:00:00Z", status="BACK")]).updated == 1
    row = stored(engine, INVOICES)["inv"]
    assert row["status"] == "BACK" and row["_deleted_at"] is None


def test_bad_deletion_ids_are_refused(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        delete(engine, [("", DELETED_AT)])
