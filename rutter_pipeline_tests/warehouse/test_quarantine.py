"""Bad items go to `_quarantine` with the reason; the rest of the batch loads; NULs are replaced."""

from __future__ import annotations

import json
import random
import string

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.warehouse import LoadResult, load_batch, quarantine_rows
from rutter_pipeline.warehouse.dialect import is_mysql
from rutter_pipeline_tests.warehouse.conftest import quarantined, stored

ORDERS = get("orders")
CLASSES = get("accounting_classes")


def good(object_id: str) -> dict:
    return {"id": object_id, "updated_at": "2024-02-01T00:00:00.000Z", "total_price": 10}


def test_unloadable_items_are_quarantined_with_reasons_and_the_rest_loads(engine: sa.Engine) -> None:
    batch = [
        good("ok1"),
        {"updated_at": "2024-02-01T00:00:00.000Z"},
        {"id": 42, "updated_at": "2024-02-01T00:00:00.000Z"},
        {"id": "bad_time", "updated_at": "yesterday"},
        {"id": "bad_money", "updated_at": "2024-02-01T00:00:00.000Z", "total_price": "12,50"},
        {"id": "huge_money", "updated_at": "2024-02-01T00:00:00.000Z", "total_price": 1e40},
        ["not", "an", "object"],
        good("ok2"),
    ]
    with engine.begin() as conn:
        result = load_batch(conn, endpoint=ORDERS, connection_id="conn_1", objects=batch)
    assert result == LoadResult(inserted=2, quarantined=6)
    assert set(stored(engine, ORDERS)) == {"ok1", "ok2"}
    rows = quarantined(engine)
    reasons = [row["reason"] for row in rows]
    assert "missing or non-string id: None" in reasons[0]
    assert "missing or non-string id: 42" in reasons[1]
    assert "field 'updated_at'" in reasons[2] and "yesterday" in reasons[2]
    assert "field 'total_price': not a number" in reasons[3]
    assert "out of range" in reasons[4]
    assert "not a JSON object but list" in reasons[5]
    assert [row["object_id"] for row in rows] == [None, None, "bad_time", "bad_money", "huge_money", None]
    assert json.loads(rows[3]["payload"]) == batch[4]
    assert {row["endpoint"] for row in rows} == {"orders"}
    assert {row["connection_id"] for row in rows} == {"conn_1"}


def test_typed_boolean_columns_reject_other_types(engine: sa.Engine) -> None:
    batch = [
        {"id": "c1", "last_synced_at": "2024-02-01T00:00:00.000Z", "has_children": True},
        {"id": "c2", "last_synced_at": "2024-02-01T00:00:00.000Z", "has_children": "yes"},
    ]
    with engine.begin() as conn:
        result = load_batch(conn, endpoint=CLASSES, connection_id="conn_1", objects=batch)
    assert (result.inserted, result.quarantined) == (1, 1)
    assert stored(engine, CLASSES)["c1"]["has_children"] is True


def test_rows_the_database_refuses_are_isolated_and_the_batch_still_loads(engine: sa.Engine) -> None:
    # Too long for MySQL's VARCHAR(255) id, and an incompressible index entry beyond PostgreSQL's btree limit.
    length = 300 if is_mysql(engine) else 9000
    too_long = "".join(random.Random(1).choices(string.ascii_letters + string.digits, k=length))
    batch = [good(f"ok{i}") for i in range(7)] + [good(too_long)] + [good(f"ok{i}") for i in range(7, 13)]
    with engine.begin() as conn:
        result = load_batch(conn, endpoint=ORDERS, connection_id="conn_1", objects=batch)
        conn.execute(sa.text("SELECT 1"))  # the caller's transaction is still usable
    assert result == LoadResult(inserted=13, quarantined=1)
    assert len(stored(engine, ORDERS)) == 13
    (row,) = quarantined(engine)
    assert row["reason"].startswith("database rejected the row")
    assert json.loads(row["payload"])["id"] == too_long


def test_nul_characters_are_replaced_everywhere_and_counted(engine: sa.Engine) -> None:
    dirty = {
        "id": "o1",
        "updated_at": "2024-02-01T00:00:00.000Z",
        "name": "#10\x0001",
        "note\x00key": ["a\x00", {"deep": "\x00"}],
    }
    with engine.begin() as conn:
        result = load_batch(conn, endpoint=ORDERS, connection_id="conn_1", objects=[dirty, good("o2")])
    assert result == LoadResult(inserted=2, sanitized=1)
    row = stored(engine, ORDERS)["o1"]
    assert row["name"] == "#10\ufffd01"
    assert row["data"]["note\ufffdkey"] == ["a\ufffd", {"deep": "\ufffd"}]


def test_values_json_cannot_hold_are_quarantined(engine: sa.Engine) -> None:
    batch = [
        {"id": "nan", "updated_at": "2024-02-01T00:00:00.000Z", "extra": float("nan")},
        {"id": "surrogate", "updated_at": "2024-02-01T00:00:00.000Z", "note": "\ud800"},
        good("ok"),
    ]
    with engine.begin() as conn:
        result = load_batch(conn, endpoint=ORDERS, connection_id="conn_1", objects=batch)
    assert result == LoadResult(inserted=1, quarantined=2)
    assert [row["object_id"] for row in quarantined(engine)] == ["nan", "surrogate"]
    assert json.loads(quarantined(engine)[1]["payload"])["note"] == "\ud800"


def test_other_callers_can_quarantine_payload_reason_pairs(engine: sa.Engine) -> None:
    event = {"id": "evt_1", "type": "object_deleted", "resource": "UNKNOWN"}
    with engine.begin() as conn:
        written = quarantine_rows(
            conn, endpoint="events", connection_id="conn_1", rejects=[(event, "unknown resource")]
        )
    assert written == 1
    (row,) = quarantined(engine)
    assert (row["endpoint"], row["object_id"], row["reason"]) == ("events", "evt_1", "unknown resource")
    assert json.loads(row["payload"]) == event


def nested_object(object_id: str, depth: int) -> dict:
    """An order whose `note` nests `depth - 1` lists inside the object (depth levels in all)."""
    value: list = []
    for _ in range(depth - 2):
        value = [value]
    return good(object_id) | {"note": value}


def test_objects_nested_too_deeply_are_quarantined_exactly(engine: sa.Engine) -> None:
    batch = [
        nested_object("d30", 30),
        nested_object("d40", 40),
        nested_object("d600", 600),
        nested_object("d3000", 3000),
        good("ok"),
    ]
    with engine.begin() as conn:
        result = load_batch(conn, endpoint=ORDERS, connection_id="conn_1", objects=batch)
    rows = {row["object_id"]: row for row in quarantined(engine)}
    if is_mysql(engine):
        # MariaDB's JSON type holds 32 levels at most.
        assert result == LoadResult(inserted=2, quarantined=3)
        assert rows["d40"]["reason"] == "nested deeper than 32 levels, the most MariaDB's JSON type holds"
    else:
        assert result == LoadResult(inserted=3, quarantined=2)
        assert stored(engine, ORDERS)["d40"]["data"] == batch[1]
    assert rows["d600"]["reason"] == rows["d3000"]["reason"] == "nested deeper than 500 levels"
    assert json.loads(rows["d600"]["payload"]) == batch[2]
    # Exact, though too deep for json.dumps to write.
    assert rows["d3000"]["payload"] == json.dumps(good("d3000"))[:-1] + ', "note": ' + "[" * 2999 + "]" * 2999 + "}"
