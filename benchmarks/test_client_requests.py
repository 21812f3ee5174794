"""Client requests per second against the sandbox running in its own process.

Small requests, so the figure is the client's (and HTTP's) per-request cost, not page rendering:
`connection_status`, and 10-invoice pages, from one thread and from four threads sharing one client. The
client's limiter is raised far above Rutter's 500 requests / 10 s for the measurement; with the default
limiter the same loop is held at 50 requests/s, which is measured too.

Run: `.venv/bin/python -m pytest -m benchmark -p no:xdist benchmarks/test_client_requests.py -s`
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.ratelimit import SlidingWindowRateLimiter
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

REQUESTS = 600


def start_sandbox() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = f"from rutter_pipeline.sandbox import serve_forever; serve_forever(port={port}, rate_limit=None)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/_sandbox/connections", timeout=5)
            return process, f"http://127.0.0.1:{port}/versioned"
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("the sandbox did not start")


def rate(call, *, threads: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: call(), range(REQUESTS)))
    return REQUESTS / (time.perf_counter() - started)


@pytest.mark.benchmark
def test_client_requests_per_second() -> None:
    sandbox, base_url = start_sandbox()
    try:
        client = RutterClient(
            base_url=base_url,
            client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
            page_size=10,
            rate_limiter=SlidingWindowRateLimiter(max_requests=10**6, per_seconds=1),
        )
        limited = RutterClient(base_url=base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET)
        books = next(c for c in client.list_connections() if c.platform == "QUICKBOOKS")
        invoices = get("accounting_invoices")

        def status() -> None:
            client.connection_status(books.access_token)

        def page() -> None:
            next(iter(client.changed_pages(invoices, access_token=books.access_token, since_ms=None)))

        figures = {
            "status_1_thread": round(rate(status, threads=1)),
            "status_4_threads": round(rate(status, threads=4)),
            "page_of_10_1_thread": round(rate(page, threads=1)),
            "page_of_10_4_threads": round(rate(page, threads=4)),
            "status_4_threads_default_limiter": round(
                rate(lambda: limited.connection_status(books.access_token), threads=4)
            ),
        }
        assert client.stats.retries == 0
    finally:
        sandbox.terminate()
        sandbox.wait()
    print("\n" + json.dumps({"requests_per_second": figures}, indent=2))
