"""A bad object costs only itself, and a cursor cycle stops: real sandbox pages, real sync, both warehouses."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.errors import CursorCycle
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sandbox import DEFAULT_CLIENT_SECRET
from rutter_pipeline.sync import backfill, incremental
from rutter_pipeline.warehouse.tables import quarantine
from rutter_pipeline_tests.sync.truth import assert_matches_truth, stored_rows

ORDERS = get("orders")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


#: Items a page may carry that cannot be loaded: (raw text as served, object id, words of the reason).
BAD_ITEMS = [
    ('{"id": "deep-1100", "note": ' + nested(1100) + "}", "deep-1100", "nested too deeply"),
    ('{"id": "deep-600", "note": ' + nested(600) + "}", "deep-600", "nested deeper than 500 levels"),
    ('"not an object"', None, "not a JSON object but str"),
    ('{"id": "nan-1", "total_price": NaN, "tags": [Infinity]}', "nan-1", "NaN is not JSON"),
    ('{"id": "before-year-1", "created_at": "0001-01-01T00:00:00+01:00"}', "before-year-1", "out of range"),
    ('{"id": "after-9999", "updated_at": "9999-12-31T23:59:59-01:00"}', "after-9999", "out of range"),
    ('{"id": "huge-1", "total_price": 1e999}', "huge-1", "number 1e999 is out of range for a float"),
]


def quarantined(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as db:
        return db.execute(sa.select(quarantine).order_by(quarantine.c.id)).all()


def shop(client):
    return next(c for c in client.list_connections() if c.platform == "SHOPIFY")


def test_each_bad_object_is_quarantined_and_the_rest_of_its_page_loads(sandbox, client, engine):
    connection = shop(client)
    # One bad item on each page of the backfill (2,000 orders, 500 a page), then one on each incremental pull.
    for raw, _, _ in BAD_ITEMS[:4]:
        sandbox.inject_fault("extra_item", path=ORDERS.path, item=raw)
    summary = backfill(client=client, engine=engine, connection=connection, endpoint=ORDERS, window=Window(None, None))
    pulled = 0
    for raw, _, _ in BAD_ITEMS[4:]:
        sandbox.inject_fault("extra_item", path=ORDERS.path, item=raw)
        pulled += incremental(client=client, engine=engine, connection=connection, endpoint=ORDERS).quarantined

    assert assert_matches_truth(engine, sandbox, connection.id, ORDERS) == 2000
    assert (summary.pages, summary.quarantined, pulled, summary.retries) == (4, 4, 3, 0)
    rows = quarantined(engine)
    assert len(rows) == len(BAD_ITEMS)
    for row, (raw, object_id, reason) in zip(rows, BAD_ITEMS, strict=True):
        assert (row.endpoint, row.connection_id, row.object_id) == ("orders", connection.id, object_id)
        assert reason in row.reason
        if row.object_id in ("deep-1100", "nan-1", "huge-1"):
            assert row.payload == raw, "an item that cannot be decoded is kept as the text received"
        else:
            assert json.loads(row.payload) == json.loads(raw)
    assert DEFAULT_CLIENT_SECRET not in str([tuple(r) for r in rows])


def test_a_cursor_cycle_stops_with_a_clear_error_and_keeps_the_pages_read(sandbox, client, pg_engine):
    connection = shop(client)
    # Pages asked with a cursor point back to the start: A, start, A, start, ... for as long as it lasts.
    sandbox.inject_fault("cursor_cycle", path=ORDERS.path, count=40)
    with pytest.raises(CursorCycle) as caught:
        backfill(
            client=client,
            engine=pg_engine,
            connection=connection,
            endpoint=ORDERS,
            window=Window(None, None),
            batch_size=500,
        )
    message = str(caught.value)
    assert "cursor cycle in /orders: page 3 returned the cursor page 2 was asked with" in message
    assert connection.access_token not in message and DEFAULT_CLIENT_SECRET not in message
    # Pages 1 and 2 were committed, page 3 (the first page again) too; nothing was asked after it.
    assert len(stored_rows(pg_engine, ORDERS, connection.id)) == 1000
