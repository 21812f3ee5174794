"""End to end: one connection with 1,000,000 orders, sandbox → sync engine → PostgreSQL, 12 monthly windows.

Measured in one run, so the ratios hold on a noisy machine:
- rows/s of the pipeline (sequential windows, and two windows at a time in two processes);
- the machine's limit: `COPY` of the same rows into the same table;
- a naive loader: one `INSERT` per row, as a first script would (on a 20,000-row subset);
- peak RSS of a pull of 100k orders and of 1M orders (it must not grow with the size);
- an incremental pull after 100 of the 1M orders changed.

Run: `.venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_sync_throughput.py -s`
(`BENCH_ORDERS=200000` for a quicker look). The sandbox runs in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rutter_pipeline.sync.periods import month_windows
from rutter_pipeline.warehouse import schema, warehouse_engine
from rutter_pipeline_tests.fixtures.databases import postgres_url  # noqa: F401 - the fixture
from rutter_pipeline_tests.fixtures.processes import free_port

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
SMALL = ORDERS // 10
NAIVE_ROWS = 20_000
CHANGED = 100
WORKER = Path(__file__).with_name("sync_worker.py")


def start_sandbox(orders: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = (
        "from rutter_pipeline.sandbox import serve_forever; "
        f"serve_forever(port={port}, profile='empty', big_orders={orders}, rate_limit=None)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    admin = f"http://127.0.0.1:{port}/_sandbox"
    deadline = time.monotonic() + 300
    while True:
        try:
            requests.get(f"{admin}/connections", timeout=5).raise_for_status()
            return process, f"http://127.0.0.1:{port}"
        except requests.ConnectionError:
            assert process.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.5)


def twelve_months() -> list[tuple[int | None, int | None]]:
    now = datetime.now(UTC)
    month = now.month - 11
    first = datetime(now.year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)
    return [(w.start_ms, w.end_ms) for w in month_windows(first, now=now)]


def run_workers(
    server: str, database_url: str, connection_id: str, window_groups: list[list], *, mode: str = "backfill"
) -> tuple[list[dict], float, float]:
    """Run one worker process per window group at once; (totals, wall seconds, peak RSS in MiB)."""
    env = dict(
        os.environ,
        RUTTER_BASE_URL=f"{server}/versioned",
        RUTTER_CLIENT_ID=DEFAULT_CLIENT_ID,
        RUTTER_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
        WAREHOUSE_URL=database_url,
        BENCH_CONNECTION_ID=connection_id,
        BENCH_MODE=mode,
    )
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKER)], stdout=subprocess.PIPE, env={**env, "BENCH_WINDOWS": json.dumps(group)}
        )
        for group in window_groups
    ]
    results = []
    for process in processes:
        output = process.stdout.read()
        assert process.wait() == 0, f"worker failed with status {process.returncode}"
        results.append(json.loads(output))
    return results, time.perf_counter() - started, max(r["peak_rss_mib"] for r in results)


def add_store(server: str, orders: int) -> str:
    reply = requests.post(
        f"{server}/_sandbox/add_connection",
        timeout=600,
        json={"platform": "SHOPIFY", "name": f"Shopify {orders}", "orders": orders},
    )
    reply.raise_for_status()
    return reply.json()["id"]


def big_store_id(server: str) -> str:
    connections = requests.get(f"{server}/_sandbox/connections", timeout=30).json()["connections"]
    return next(c["id"] for c in connections if c["platform"] == "SHOPIFY")


def reset(engine: sa.Engine) -> None:
    with engine.begin() as db:
        db.execute(sa.text("truncate rutter.orders, rutter._sync_state"))


def copy_limit(engine: sa.Engine) -> tuple[float, list[tuple]]:
    """Seconds to COPY the loaded rows back into the emptied table; also returns a sample for the naive loader."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"select * from rutter.orders limit {NAIVE_ROWS}")
        sample = cursor.fetchall()
        columns = [d[0] for d in cursor.description]
        with cursor.copy("copy rutter.orders to stdout") as copy:
            dump = b"".join(bytes(block) for block in copy)
        cursor.execute("truncate rutter.orders")
        raw.commit()
        started = time.perf_counter()
        with cursor.copy("copy rutter.orders from stdin") as copy:
            copy.write(dump)
        raw.commit()
        seconds = time.perf_counter() - started
        return seconds, [tuple(columns), *sample]
    finally:
        raw.close()


def naive_insert(engine: sa.Engine, sample: list[tuple]) -> float:
    """Seconds to insert the sample one INSERT per row into the emptied table."""
    columns, rows = sample[0], sample[1:]
    statement = f"insert into rutter.orders ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("truncate rutter.orders")
        raw.commit()
        started = time.perf_counter()
        for row in rows:
            cursor.execute(statement, [json.dumps(v) if isinstance(v, dict | list) else v for v in row])
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def change_orders(server: str, connection_id: str, count: int) -> None:
    connections = requests.get(f"{server}/_sandbox/connections", timeout=30).json()["connections"]
    token = next(c["access_token"] for c in connections if c["id"] == connection_id)
    page = requests.get(
        f"{server}/versioned/orders",
        params={"access_token": token, "limit": count},
        timeout=60,
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        headers={"X-Rutter-Version": "2024-08-31"},
    )
    page.raise_for_status()
    for obj in page.json()["orders"]:
        requests.post(
            f"{server}/_sandbox/update",
            timeout=30,
            json={
                "connection_id": connection_id,
                "path": "/orders",
                "object_id": obj["id"],
                "changes": {"status": "archived"},
            },
        ).raise_for_status()
    requests.post(f"{server}/_sandbox/refresh", timeout=30).raise_for_status()


@pytest.mark.benchmark
@pytest.mark.timeout(3600)
def test_million_orders_end_to_end(postgres_url: str) -> None:
    engine = warehouse_engine(postgres_url)
    schema.upgrade(engine)
    started = time.perf_counter()
    sandbox, server = start_sandbox(ORDERS)
    sandbox_build_s = time.perf_counter() - started
    try:
        big = big_store_id(server)
        windows = twelve_months()
        seq, seq_s, rss_big = run_workers(server, postgres_url, big, [windows])
        assert seq[0]["inserted"] == ORDERS

        reset(engine)
        par, par_s, _ = run_workers(server, postgres_url, big, [windows[0::2], windows[1::2]])
        assert sum(r["inserted"] for r in par) == ORDERS

        copy_s, sample = copy_limit(engine)
        naive_s = naive_insert(engine, sample)

        reset(engine)
        run_workers(server, postgres_url, big, [windows])
        change_orders(server, big, CHANGED)
        inc, inc_s, _ = run_workers(server, postgres_url, big, [[]], mode="incremental")
        assert inc[0]["updated"] >= CHANGED

        small = add_store(server, SMALL)
        _, _, rss_small = run_workers(server, postgres_url, small, [windows])
    finally:
        sandbox.terminate()
        sandbox.wait()
        engine.dispose()

    figures = {
        "orders": ORDERS,
        "sandbox_build_s": round(sandbox_build_s, 1),
        "pipeline_sequential_rows_per_s": round(ORDERS / seq_s),
        "pipeline_two_processes_rows_per_s": round(ORDERS / par_s),
        "copy_rows_per_s": round(ORDERS / copy_s),
        "naive_insert_rows_per_s": round(NAIVE_ROWS / naive_s),
        "sequential_vs_copy": round(copy_s / seq_s, 3),
        "two_processes_vs_copy": round(copy_s / par_s, 3),
        "sequential_vs_naive": round((NAIVE_ROWS / naive_s and (ORDERS / seq_s) / (NAIVE_ROWS / naive_s)), 1),
        "peak_rss_mib_small": round(rss_small),
        "peak_rss_mib_big": round(rss_big),
        "small_orders": SMALL,
        "incremental_after_100_changes_s": round(inc_s, 2),
        "incremental_fetched": inc[0]["fetched"],
    }
    print("\n" + json.dumps(figures, indent=2))
    assert rss_big < rss_small * 1.5, "memory grew with the connection's size"
