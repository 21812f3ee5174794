"""Loader throughput on PostgreSQL: `load_batch` vs a plain COPY (the machine's limit) vs one INSERT per row.

200,000 generated order-like objects of about 1.5 KB JSON, in batches of 5,000, one transaction a batch.
Run with `make benchmark` (or `pytest -m benchmark benchmarks -s`); the figures are printed at the end.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.timeutil import format_iso
from rutter_pipeline.warehouse import count_rows, load_batch, schema, warehouse_engine
from rutter_pipeline.warehouse.merge_postgres import copy_buffer
from rutter_pipeline.warehouse.rows import Prepared, column_names, prepare
from rutter_pipeline_tests.fixtures.databases import postgres_url  # noqa: F401 - the fixture

ORDERS = get("orders")
TOTAL = 200_000
BATCH = 5_000
NAIVE_SUBSET = 20_000
_START = datetime(2023, 1, 1, tzinfo=UTC)


def _order(rng: random.Random, number: int) -> dict:
    created = _START + timedelta(minutes=number)
    items = [
        {
            "id": f"li_{number}_{k}",
            "product_id": f"prod_{rng.randrange(5000)}",
            "variant_id": f"var_{rng.randrange(20000)}",
            "title": f"Organic cotton t-shirt, size {rng.choice('SMLX')}",
            "sku": f"SKU-{rng.randrange(10**6):06d}",
            "quantity": rng.randint(1, 4),
            "unit_cost": f"{rng.uniform(3, 90):.2f}",
            "total_discount": 0,
        }
        for k in range(rng.randint(2, 4))
    ]
    total = round(sum(float(i["unit_cost"]) * i["quantity"] for i in items), 2)
    return {
        "id": f"ord_{number:08d}",
        "platform_id": str(4_000_000_000 + number),
        "order_number": str(1000 + number),
        "name": f"#{1000 + number}",
        "status": rng.choice(["open", "closed", "cancelled"]),
        "payment_status": rng.choice(["paid", "pending", "refunded"]),
        "fulfillment_status": rng.choice(["fulfilled", "unfulfilled", "partial"]),
        "iso_currency_code": "USD",
        "source_name": "web",
        "total_price": total,
        "total_discount": "0.00",
        "total_line_items_price": total,
        "total_shipping": 4.99,
        "total_tax": round(total * 0.08, 2),
        "customer": {"id": f"cus_{rng.randrange(50000)}", "email": f"buyer{number}@example.com"},
        "shipping_address": {
            "address1": f"{rng.randrange(1, 9999)} Market Street",
            "city": "San Francisco",
            "region": "CA",
            "postal_code": "94103",
            "country_code": "US",
            "phone": "+1-415-555-0100",
        },
        "line_items": items,
        "refunds": [],
        "tags": ["wholesale", "repeat-customer", f"campaign-{rng.randrange(40)}"],
        "note": "Leave the parcel at the side door; call on arrival if nobody answers.",
        "created_at": format_iso(created),
        "updated_at": format_iso(created + timedelta(hours=rng.randint(0, 72))),
        "cancelled_at": None,
    }


def _batches(count: int) -> Iterator[list[dict]]:
    rng = random.Random(42)
    for start in range(0, count, BATCH):
        yield [_order(rng, n) for n in range(start, min(start + BATCH, count))]


def _truncate(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE rutter.orders"))


def _time_load_batch(engine: sa.Engine) -> float:
    elapsed = 0.0
    for batch in _batches(TOTAL):
        began = time.perf_counter()
        with engine.begin() as conn:
            result = load_batch(conn, endpoint=ORDERS, connection_id="conn_bench", objects=batch)
        elapsed += time.perf_counter() - began
        assert result.inserted == len(batch)
    return elapsed


def _time_plain_copy(engine: sa.Engine) -> float:
    """COPY of the same rows, pre-formatted outside the clock: only the database's work is timed."""
    columns = ", ".join((*column_names(ORDERS), "data", "connection_id", "_synced_at"))
    suffix = f"\tconn_bench\t{datetime.now(UTC).isoformat()}".encode()
    elapsed = 0.0
    for batch in _batches(TOTAL):
        rows = [row for row in (prepare(ORDERS, obj) for obj in batch) if isinstance(row, Prepared)]
        text = b"".join(line + suffix + b"\n" for line in copy_buffer(rows).splitlines())
        began = time.perf_counter()
        with (
            engine.begin() as conn,
            conn.connection.cursor() as cursor,
            cursor.copy(f"COPY rutter.orders ({columns}) FROM STDIN") as copy,
        ):
            copy.write(text)
        elapsed += time.perf_counter() - began
    return elapsed


def _time_naive(engine: sa.Engine) -> float:
    """What a first script does: one INSERT … ON CONFLICT per object, JSON and typed columns bound per row."""
    statement = sa.text(
        "INSERT INTO rutter.orders (id, connection_id, platform_id, created_at, updated_at, status, total_price, "
        "data, _synced_at) VALUES (:id, 'conn_bench', :platform_id, :created_at, :updated_at, :status, "
        ":total_price, CAST(:data AS jsonb), now()) ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, "
        "updated_at = EXCLUDED.updated_at"
    )
    elapsed = 0.0
    for batch in _batches(NAIVE_SUBSET):
        began = time.perf_counter()
        with engine.begin() as conn:
            for obj in batch:
                conn.execute(
                    statement,
                    {
                        "id": obj["id"],
                        "platform_id": obj["platform_id"],
                        "created_at": obj["created_at"],
                        "updated_at": obj["updated_at"],
                        "status": obj["status"],
                        "total_price": obj["total_price"],
                        "data": json.dumps(obj),
                    },
                )
        elapsed += time.perf_counter() - began
    return elapsed


@pytest.mark.benchmark
def test_loader_throughput(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = warehouse_engine(postgres_url)
    schema.upgrade(engine)
    sample = next(_batches(BATCH))
    average_json = sum(len(json.dumps(o)) for o in sample) / len(sample)

    load_s = _time_load_batch(engine)
    with engine.connect() as conn:
        assert count_rows(conn, ORDERS) == TOTAL
    began = time.perf_counter()
    with engine.begin() as conn:
        again = load_batch(conn, endpoint=ORDERS, connection_id="conn_bench", objects=sample)
    unchanged_s = time.perf_counter() - began
    assert again.unchanged == BATCH

    _truncate(engine)
    copy_s = _time_plain_copy(engine)
    _truncate(engine)
    naive_s = _time_naive(engine) * (TOTAL / NAIVE_SUBSET)
    engine.dispose()

    rate = {"load_batch": TOTAL / load_s, "plain COPY": TOTAL / copy_s, "one INSERT per row": TOTAL / naive_s}
    with capsys.disabled():
        print(f"\n\nLoader throughput: {TOTAL:,} orders, ~{average_json:,.0f} B JSON each, batches of {BATCH:,}")
        for name, rows_per_s in rate.items():
            print(f"  {name:<20} {rows_per_s:>10,.0f} rows/s   ({TOTAL / rows_per_s:6.1f} s for {TOTAL:,})")
        print(f"  re-load of {BATCH:,} unchanged objects: {BATCH / unchanged_s:,.0f} rows/s")
        print(f"  load_batch / plain COPY = {rate['load_batch'] / rate['plain COPY']:.2f}")
        print(f"  load_batch / one INSERT per row = {rate['load_batch'] / rate['one INSERT per row']:.1f}x")
    assert 1_200 <= average_json <= 2_000
    assert rate["load_batch"] > rate["one INSERT per row"]
