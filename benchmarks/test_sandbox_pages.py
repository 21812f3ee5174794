"""Sandbox throughput: a million-order store built and served by its own process, read over real HTTP.

The server runs `serve_forever` in a subprocess (as a user or the sync benchmarks run it); the client reads
500-order pages in this process, sequentially and from two threads. A 100,000-order store is measured too,
to show that the server's memory does not grow with the store.

Run: `.venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_sandbox_pages.py -s`
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
import requests

from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rutter_pipeline_tests.fixtures.processes import free_port

PAGES = 100
LIMIT = 500
DAY_MS = 86_400_000
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A sandbox serving in a subprocess."""

    process: subprocess.Popen
    base_url: str
    build_s: float

    def memory_mb(self, field: str) -> float:
        """`VmRSS` (now) or `VmHWM` (peak) of the server process, in MiB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            line = next(line for line in status if line.startswith(f"{field}:"))
        return int(line.split()[1]) / 1024

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


@pytest.fixture
def serve() -> Iterator:
    """Start `serve_forever(big_orders=N)` in a subprocess; every server is stopped at the end of the test."""
    started: list[subprocess.Popen] = []

    def start(orders: int) -> Server:
        code = (
            "from rutter_pipeline.sandbox import serve_forever; "
            f"serve_forever(port={free_port()}, profile='empty', big_orders={orders}, rate_limit=None)"
        )
        process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        started.append(process)
        banner = process.stdout.readline()
        found = re.search(r"serving (\S+) .*built in ([0-9.]+)s", banner)
        assert found, f"unexpected sandbox banner {banner!r}"
        return Server(process=process, base_url=found.group(1), build_s=float(found.group(2)))

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def _session() -> requests.Session:
    session = requests.Session()
    session.auth = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    session.headers["X-Rutter-Version"] = "2024-08-31"
    return session


def _token(server: Server) -> str:
    admin = server.base_url.replace("/versioned", "/_sandbox")
    connections = requests.get(f"{admin}/connections", timeout=30).json()["connections"]
    return next(c["access_token"] for c in connections if c["name"] == "Shopify large store")


def _parsed_page(content: bytes) -> tuple[int, str | None, list[str]]:
    body = orjson.loads(content)
    return len(body["orders"]), body["next_cursor"], [order["id"] for order in body["orders"]]


def _skimmed_page(content: bytes) -> tuple[int, str | None, list[str]]:
    # Parsing a page costs the client about as much CPU as serving it costs the server; to measure the
    # server, read only the envelope after the orders and count the orders' one `order_number` key each.
    tail = orjson.loads(b"{" + content[content.rindex(b'"next_cursor":') :])
    return content.count(b'"order_number":'), tail["next_cursor"], []


def _read_pages(base_url: str, token: str, params: dict, *, pages: int, parse: bool) -> tuple[int, list[str]]:
    """(orders served, their ids when parsed) for up to `pages` consecutive pages."""
    session, cursor, served, ids = _session(), None, 0, []
    for _ in range(pages):
        query = {"access_token": token, "limit": LIMIT, **params, **({"cursor": cursor} if cursor else {})}
        response = session.get(f"{base_url}/orders", params=query, timeout=60)
        assert response.status_code == 200, response.text[:500]
        count, cursor, page_ids = (_parsed_page if parse else _skimmed_page)(response.content)
        served += count
        ids += page_ids
        if not cursor:
            break
    return served, ids


def _measure(server: Server, orders: int) -> dict[str, float]:
    token = _token(server)
    rss_built = server.memory_mb("VmRSS")
    cpu = server.cpu_s()
    started = time.perf_counter()
    sequential, _ = _read_pages(server.base_url, token, {}, pages=PAGES, parse=False)
    sequential_s = time.perf_counter() - started
    sequential_cpu = server.cpu_s() - cpu
    started = time.perf_counter()
    parsed, parsed_ids = _read_pages(server.base_url, token, {}, pages=PAGES, parse=True)
    parsed_s = time.perf_counter() - started

    # Two readers of disjoint halves, split by creation time (the way backfill windows split a store).
    middle = (int(time.time() * 1000) // DAY_MS - 390) * DAY_MS
    halves = [{"created_at_max": middle - 1}, {"created_at_min": middle}]
    results: list[int] = [0, 0]

    def read_half(n: int) -> None:
        results[n], _ = _read_pages(server.base_url, token, halves[n], pages=PAGES // 2, parse=False)

    threads = [threading.Thread(target=read_half, args=(n,)) for n in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    parallel_s = time.perf_counter() - started

    assert sequential == parsed == len(set(parsed_ids)) == PAGES * LIMIT
    assert results == [PAGES // 2 * LIMIT] * 2
    figures = {
        "build_s": server.build_s,
        "rss_built_mb": rss_built,
        "rss_served_mb": server.memory_mb("VmRSS"),
        "rss_peak_mb": server.memory_mb("VmHWM"),
        "sequential_pages_s": PAGES / sequential_s,
        "sequential_orders_s": sequential / sequential_s,
        "orders_per_server_cpu_s": sequential / sequential_cpu,
        "parsed_orders_s": parsed / parsed_s,
        "parallel_pages_s": PAGES / parallel_s,
        "parallel_orders_s": sum(results) / parallel_s,
    }
    print(
        f"\n{orders:,} orders: built in {figures['build_s']:.1f}s; server RSS {rss_built:.0f} MB after build, "
        f"{figures['rss_served_mb']:.0f} MB after serving (peak {figures['rss_peak_mb']:.0f} MB)"
    )
    print(
        f"  sequential: {figures['sequential_pages_s']:.1f} pages/s, {figures['sequential_orders_s']:,.0f} orders/s "
        f"({figures['orders_per_server_cpu_s']:,.0f} orders per server CPU second)"
    )
    print(f"  2 threads:  {figures['parallel_pages_s']:.1f} pages/s, {figures['parallel_orders_s']:,.0f} orders/s")
    print(f"  sequential, client parsing every page: {figures['parsed_orders_s']:,.0f} orders/s")
    return figures


@pytest.mark.benchmark
def test_million_order_pages(serve) -> None:
    small = _measure(serve(100_000), 100_000)
    large = _measure(serve(1_000_000), 1_000_000)
    # Loose bounds (a shared machine is noisy): they catch a return to per-object storage or slow rendering.
    assert large["build_s"] < 30
    assert large["rss_served_mb"] < small["rss_served_mb"] + 64
    assert large["orders_per_server_cpu_s"] > 10_000
