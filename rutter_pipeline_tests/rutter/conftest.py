"""Servers for the client tests: the sandbox, and a tiny real HTTP server replaying scripted answers for
behaviour the sandbox cannot show."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.ratelimit import SlidingWindowRateLimiter
from rutter_pipeline.rutter.retry import RetryPolicy
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox

SECRET = "replay-secret-never-shown"
TOKEN = "replay-access-token-0123456789"


@dataclass
class Answer:
    """One scripted answer: a status with a body, or a broken response (`drop`, `truncate`)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "send"  # send | drop | truncate


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class Replay:
    """Answers requests from a script, then with `fallback` (200 `{"orders": [], "next_cursor": null}`)."""

    def __init__(self) -> None:
        self.script: deque[Answer] = deque()
        self.seen: list[Seen] = []
        self.fallback = Answer(body={"orders": [], "next_cursor": None})
        self.lock = threading.Lock()

    def add(self, *answers: Answer) -> None:
        self.script.extend(answers)

    def next_answer(self, seen: Seen) -> Answer:
        with self.lock:
            self.seen.append(seen)
            return self.script.popleft() if self.script else self.fallback


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            answer = replay.next_answer(Seen(parts.path, query, dict(self.headers)))
            if answer.action == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            raw = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            headers = {"Content-Type": "application/json", "X-Rutter-Request-ID": f"req-{len(replay.seen)}"}
            for name, value in {**headers, **answer.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if answer.action == "truncate":
                self.wfile.write(raw[: len(raw) // 2])
                self.close_connection = True
                return
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            """Quiet: the tests read `replay.seen` instead."""

    return Handler


@pytest.fixture
def replay() -> Iterator[tuple[Replay, str]]:
    """A started replay server and its base URL (`http://127.0.0.1:PORT/versioned`)."""
    script = Replay()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield script, f"http://127.0.0.1:{server.server_port}/versioned"
    server.shutdown()
    server.server_close()


FAST_RETRY = RetryPolicy(
    max_attempts=4, base_delay_s=0.01, max_delay_s=0.05, max_total_wait_s=5.0, rate_limited_min_delay_s=0.05
)


@pytest.fixture
def replay_client(replay: tuple[Replay, str]) -> Iterator[tuple[Replay, RutterClient]]:
    """A client talking to the replay server with quick retries."""
    script, base_url = replay
    client = RutterClient(
        base_url=base_url,
        client_id="replay-client",
        client_secret=SECRET,
        retry=FAST_RETRY,
        rate_limiter=SlidingWindowRateLimiter(1000, 1.0),
        page_size=2,
        timeout_s=5,
    )
    yield script, client
    client.close()


def sandbox_client(sandbox: Sandbox, **settings: object) -> RutterClient:
    """A client for a started sandbox with quick retries and the default rate limiter (both overridable)."""
    defaults: dict[str, object] = {
        "base_url": sandbox.base_url,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "retry": RetryPolicy(
            max_attempts=6, base_delay_s=0.02, max_delay_s=0.2, max_total_wait_s=30.0, rate_limited_min_delay_s=0.5
        ),
        "rate_limiter": SlidingWindowRateLimiter(),
    }
    return RutterClient(**{**defaults, **settings})
