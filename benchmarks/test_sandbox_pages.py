"""Sandbox throughput: a one-million-order store, built and served through real HTTP.

Run: `.venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_sandbox_pages.py -s`
"""

from __future__ import annotations

import resource
import threading
import time

import orjson
import pytest
import requests

from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox

ORDERS = 1_000_000
PAGES = 60


def _session() -> requests.Session:
    session = requests.Session()
    session.auth = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    session.headers["X-Rutter-Version"] = "2024-08-31"
    return session


def _read_pages(base_url: str, token: str, params: dict, pages: int) -> int:
    session, cursor, served = _session(), None, 0
    for _ in range(pages):
        query = {"access_token": token, "limit": 500, **params, **({"cursor": cursor} if cursor else {})}
        body = orjson.loads(session.get(f"{base_url}/orders", params=query, timeout=60).content)
        served += len(body["orders"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    return served


@pytest.mark.benchmark
def test_million_order_pages() -> None:
    started = time.perf_counter()
    sandbox = Sandbox(profile="empty", big_orders=ORDERS, rate_limit=None)
    build_s = time.perf_counter() - started
    try:
        base_url = sandbox.start()
        token = sandbox.access_token("Shopify large store")
        started = time.perf_counter()
        sequential = _read_pages(base_url, token, {}, PAGES)
        sequential_s = time.perf_counter() - started

        results: list[int] = []
        halves = [{"created_at_max": sandbox.world.anchor_ms - 400 * 86_400_000},
                  {"created_at_min": sandbox.world.anchor_ms - 400 * 86_400_000}]
        threads = [threading.Thread(target=lambda p=p: results.append(_read_pages(base_url, token, p, PAGES // 2)))
                   for p in halves]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        parallel_s = time.perf_counter() - started
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        sandbox.stop()
    print(f"\nbuild {ORDERS:,} orders: {build_s:.1f}s; peak RSS {rss_mb:.0f} MB")
    print(f"sequential: {PAGES / sequential_s:.1f} pages/s, {sequential / sequential_s:,.0f} orders/s")
    print(f"2 threads: {PAGES / parallel_s:.1f} pages/s, {sum(results) / parallel_s:,.0f} orders/s")
    assert sequential == PAGES * 500
    assert sum(results) == PAGES * 500
    assert build_s < 120
