"""load_batch: counts, never going backwards, duplicates, new fields, money, reports."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.warehouse import LoadResult, load_batch
from rutter_pipeline.warehouse.dialect import is_mysql
from rutter_pipeline.warehouse.rows import Prepared, prepare, strip_nuls
from rutter_pipeline_tests.warehouse.conftest import stored

ORDERS = get("orders")
INVOICES = get("accounting_invoices")
BALANCE_SHEETS = get("accounting_balance_sheets")


def order(object_id: str, updated: str, **fields: object) -> dict:
    return {"id": object_id, "created_at": "2024-01-01T00:00:00.000Z", "updated_at": updated, **fields}


def load(engine: sa.Engine, endpoint, objects: list) -> LoadResult:
    with engine.begin() as conn:
        return load_batch(conn, endpoint=endpoint, connection_id="conn_1", objects=objects)


def test_insert_update_unchanged_and_stale_are_counted(engine: sa.Engine) -> None:
    first = [order(f"o{i}", "2024-02-01T00:00:00.000Z", status="open") for i in range(4)]
    assert load(engine, ORDERS, first) == LoadResult(inserted=4)
    second = [
        order("o0", "2024-02-01T00:00:00.000Z", status="open"),  # identical: unchanged
        order("o1", "2024-02-01T00:00:00.000Z", status="closed"),  # same version, new content: updated
        order("o2", "2024-03-01T00:00:00.000Z", status="open"),  # newer: updated
        order("o3", "2024-01-01T00:00:00.000Z", status="stale"),  # older: unchanged, not written
        order("o4", "2024-02-01T00:00:00.000Z"),  # new: inserted
    ]
    assert load(engine, ORDERS, second) == LoadResult(inserted=1, updated=2, unchanged=2)
    rows = stored(engine, ORDERS)
    assert rows["o1"]["status"] == "closed"
    assert rows["o3"]["status"] == "open"
    assert rows["o2"]["updated_at"].replace(tzinfo=UTC) == datetime(2024, 3, 1, tzinfo=UTC)
    assert rows["o0"]["connection_id"] == "conn_1"


def test_the_object_lands_exactly_as_received_with_typed_columns(engine: sa.Engine) -> None:
    received = order(
        "o1",
        "2024-02-01T10:20:30.456Z",
        total_price="12.50",
        total_tax=1.25,
        order_number=1001,
        cancelled_at=None,
        line_items=[{"sku": "A", "quantity": 2}],
        brand_new_field={"added": "tomorrow"},
    )
    assert load(engine, ORDERS, [received]).inserted == 1
    row = stored(engine, ORDERS)["o1"]
    assert row["data"] == received
    assert row["total_price"] == Decimal("12.5")
    assert row["total_tax"] == Decimal("1.25")
    assert row["order_number"] == "1001"
    assert row["cancelled_at"] is None and row["_deleted_at"] is None
    assert row["updated_at"].replace(tzinfo=UTC) == datetime(2024, 2, 1, 10, 20, 30, 456000, UTC)


def test_the_json_text_is_the_same_whichever_encoder_writes_it(engine: sa.Engine) -> None:
    """Objects decoded from Rutter's answers take orjson alone; others the checked path: both store one text."""
    deep: list = []
    for _ in range(300):  # deeper than orjson writes, within what is loaded
        deep = [deep]
    objects = [
        order("plain", "2024-02-01T00:00:00.000Z", total_price=12.5, note="Kraków \u2028 ✓", tiny=1e-7),
        order("huge", "2024-02-01T00:00:00.000Z", big=123456789012345678901234567890),
        order("deep", "2024-02-01T00:00:00.000Z", note=deep),
        order("nul", "2024-02-01T00:00:00.000Z", name="#1\x00", notes={"k\x00": ["\x00"]}),
    ]
    for item in objects:
        checked, fast = prepare(ORDERS, item), prepare(ORDERS, item, decoded=True)
        assert isinstance(checked, Prepared) and isinstance(fast, Prepared)
        assert fast.data == checked.data and fast.values == checked.values
        assert json.loads(fast.data) == strip_nuls(item)[0]
    assert (checked.sanitized, fast.sanitized) == (3, 3)
    with engine.begin() as conn:
        result = load_batch(conn, endpoint=ORDERS, connection_id="conn_1", objects=objects, decoded=True)
    rows = stored(engine, ORDERS)
    if is_mysql(engine):
        # MariaDB's JSON type holds 32 levels at most: the deep object is quarantined there.
        assert result == LoadResult(inserted=3, quarantined=1, sanitized=1)
        assert {key: rows[key]["data"] for key in ("plain", "huge")} == {"plain": objects[0], "huge": objects[1]}
    else:
        assert result == LoadResult(inserted=4, sanitized=1)
        assert {key: rows[key]["data"] for key in ("plain", "huge", "deep")} == {
            "plain": objects[0],
            "huge": objects[1],
            "deep": objects[2],
        }
    assert rows["nul"]["name"] == "#1\ufffd"


def test_duplicates_inside_a_batch_keep_the_newest(engine: sa.Engine) -> None:
    batch = [
        order("o1", "2024-02-02T00:00:00.000Z", status="middle"),
        order("o1", "2024-02-03T00:00:00.000Z", status="newest"),
        order("o1", "2024-02-01T00:00:00.000Z", status="oldest"),
    ]
    assert load(engine, ORDERS, batch) == LoadResult(inserted=1, unchanged=2)
    assert stored(engine, ORDERS)["o1"]["status"] == "newest"


def test_accounting_versions_by_last_synced_at_and_null_version_wins(engine: sa.Engine) -> None:
    def invoice(synced: str | None, status: str) -> dict:
        return {"id": "inv1", "last_synced_at": synced, "updated_at": None, "status": status}

    load(engine, INVOICES, [invoice("2024-05-01T00:00:00.000Z", "OPEN")])
    assert load(engine, INVOICES, [invoice("2024-04-01T00:00:00.000Z", "OLD")]).unchanged == 1
    assert load(engine, INVOICES, [invoice(None, "UNVERSIONED")]).updated == 1
    assert load(engine, INVOICES, [invoice("2024-01-01T00:00:00.000Z", "AFTER_NULL")]).updated == 1
    assert stored(engine, INVOICES)["inv1"]["status"] == "AFTER_NULL"


def test_reports_without_version_field_take_the_latest_pull(engine: sa.Engine) -> None:
    sheet = {"id": "bs_2024_01", "start_date": "2024-01-01", "end_date": "2024-01-31", "total_assets": 100}
    load(engine, BALANCE_SHEETS, [sheet])
    assert load(engine, BALANCE_SHEETS, [sheet]).unchanged == 1
    assert load(engine, BALANCE_SHEETS, [{**sheet, "total_assets": 90}]).updated == 1
    assert stored(engine, BALANCE_SHEETS)["bs_2024_01"]["total_assets"] == Decimal(90)


def test_two_concurrent_writers_end_with_the_newest_version(engine: sa.Engine) -> None:
    ids = [f"o{i:03d}" for i in range(200)]
    versions = {"old": "2024-01-01T00:00:00.000Z", "new": "2024-06-01T00:00:00.000Z"}
    for _round in range(3):
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def write(version: str, label: str, start: threading.Barrier, errors: list[BaseException]) -> None:
            try:
                start.wait()
                load(engine, ORDERS, [order(i, version, status=label) for i in ids])
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

        threads = [
            threading.Thread(target=write, args=(versions[label], label, start, errors)) for label in ("new", "old")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert {row["status"] for row in stored(engine, ORDERS).values()} == {"new"}
        versions = {"old": versions["new"], "new": f"2024-0{7 + _round}-01T00:00:00.000Z"}


def test_data_is_compressed_with_lz4_where_the_server_has_it(pg_engine: sa.Engine) -> None:
    with pg_engine.connect() as db:
        methods = db.execute(
            sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar_one()
    # Large enough to be compressed: a few kilobytes of text that compresses well.
    objects = [order(f"o{i}", "2024-02-01T00:00:00.000Z", note="line item " * 400) for i in range(3)]
    assert load(pg_engine, ORDERS, objects).inserted == 3
    with pg_engine.connect() as db:
        used = db.execute(sa.text("SELECT DISTINCT pg_column_compression(data) FROM rutter.orders")).scalars().all()
    assert used == (["lz4"] if "lz4" in methods else ["pglz"])
