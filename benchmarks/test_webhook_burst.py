"""Webhook bursts: 200 and 300 concurrent valid deliveries, the receiver vs a stdlib threading server.

Each delivery is a distinct signed `ORDER_DELETED` event, sent at once from as many client threads (one
connection each, released by a barrier) to a receiver on a fresh PostgreSQL warehouse. The baseline serves the
same `WebhookReceiver.handle` (inbox, deletion) from `http.server.ThreadingHTTPServer`, the server the receiver
used before (listen backlog 5, a thread per connection). Reported: deliveries answered 200, dropped (connection
refused or reset, or any other status), and deliveries/s over the whole burst.
Run with `make benchmark` (or `pytest -m benchmark -p no:xdist benchmarks/test_webhook_burst.py -s`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import sqlalchemy as sa

from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, sign
from rutter_pipeline.warehouse import schema, warehouse_engine
from rutter_pipeline.webhooks.receiver import WebhookReceiver
from rutter_pipeline_tests.fixtures.databases import postgres_url  # noqa: F401 - the fixture

SECRET = "benchmark-secret"
BURSTS = (200, 300)


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = warehouse_engine(postgres_url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def _stdlib_server(receiver: WebhookReceiver) -> tuple[str, Callable[[], None]]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, answer = receiver.handle(body, self.headers.get(SIGNATURE_HEADER))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}/", stop


def _burst(url: str, size: int, tag: str) -> tuple[int, int, float]:
    bodies = [
        json.dumps(
            {"type": "ORDER", "code": "ORDER_DELETED", "connection_id": "c1", "order": {"id": f"{tag}-{i}"}}
        ).encode()
        for i in range(size)
    ]
    barrier = threading.Barrier(size + 1)

    def deliver(body: bytes) -> int | str:
        headers = {SIGNATURE_HEADER: sign(body, SECRET), "Content-Type": "application/json"}
        barrier.wait()
        try:
            return requests.post(url, data=body, headers=headers, timeout=60).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(size) as pool:
        futures = [pool.submit(deliver, body) for body in bodies]
        barrier.wait()
        started = time.perf_counter()
        statuses = [future.result() for future in futures]
        elapsed = time.perf_counter() - started
    ok = sum(1 for status in statuses if status == 200)
    return ok, size - ok, elapsed


@pytest.mark.benchmark
def test_webhook_bursts(engine: sa.Engine) -> None:
    results = []
    receiver = WebhookReceiver(engine, SECRET)
    url = receiver.start()
    try:
        for size in BURSTS:
            results.append(("receiver (uvicorn)", size, *_burst(url, size, f"uv{size}")))
    finally:
        receiver.stop()
    baseline = WebhookReceiver(engine, SECRET)
    url, stop = _stdlib_server(baseline)
    try:
        for size in BURSTS:
            results.append(("stdlib ThreadingHTTPServer", size, *_burst(url, size, f"std{size}")))
    finally:
        stop()
    print("\n| server | burst | answered 200 | dropped | deliveries/s |\n|---|---|---|---|---|")
    for name, size, ok, dropped, elapsed in results:
        print(f"| {name} | {size} | {ok} | {dropped} | {ok / elapsed:,.0f} |")
    assert all(dropped == 0 for name, _, _, dropped, _ in results if name.startswith("receiver"))
