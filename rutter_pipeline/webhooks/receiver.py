"""An HTTP endpoint for Rutter webhooks: verify the signature, record the event in the inbox, apply it once.

Served by uvicorn (see docs/reliability.md for why): connections are handled by one event loop, so a slow or
idle client costs a socket and a coroutine, never a thread; a request must arrive whole within
`request_timeout_s`; at most `max_connections` are served at once (more are answered 503, which Rutter
retries); the listen backlog is `backlog`. The database work of at most `workers` deliveries runs at a time, on
a thread pool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import uvicorn
from sqlalchemy.engine import Engine
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, InvalidWebhook, parse_event, verify_signature
from rutter_pipeline.webhooks import inbox
from rutter_pipeline.webhooks.apply import apply_event, quarantine_body

log = logging.getLogger("rutter_pipeline.webhooks")

#: Rutter's events are small; anything larger is refused before it is read whole.
MAX_BODY_BYTES = 1_000_000
_SIGNATURE = SIGNATURE_HEADER.lower().encode()


class WebhookReceiver:
    """Serves `POST /` (any path) for Rutter webhooks on a background thread.

    Args:
        engine: the warehouse.
        client_secret: the organisation's client secret, which signs the bodies.
        workers: deliveries whose database work runs at the same time.
        max_connections: connections served at once; beyond it requests are answered 503.
        request_timeout_s: how long a client has to send a whole request (headers and body).
        backlog: connections the kernel queues before they are accepted.
    """

    def __init__(
        self,
        engine: Engine,
        client_secret: str,
        *,
        workers: int = 8,
        max_connections: int = 1000,
        request_timeout_s: float = 10.0,
        backlog: int = 2048,
    ) -> None:
        self._engine = engine
        self._secret = client_secret
        self.workers = workers
        self.max_connections = max_connections
        self.request_timeout_s = request_timeout_s
        self.backlog = backlog
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; returns the URL to configure in Rutter."""
        listener = socket.create_server((host, port), backlog=self.backlog)
        protocol = type("TimedProtocol", (_RequestDeadline,), {"request_timeout_s": self.request_timeout_s})
        config = uvicorn.Config(
            self._asgi,
            interface="asgi3",
            http=protocol,
            lifespan="off",
            proxy_headers=False,
            limit_concurrency=self.max_connections,
            backlog=self.backlog,
            timeout_keep_alive=5,
            access_log=False,
            log_config=None,
            server_header=False,
        )
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="rutter-webhooks")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [listener]}, name="rutter-webhooks", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the webhook receiver did not start on {host}:{port}")
            time.sleep(0.01)
        return f"http://{host}:{listener.getsockname()[1]}/"

    def stop(self) -> None:
        """Stop listening, finishing the deliveries in progress."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
            self._server = self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def handle(self, body: bytes, signature: str | None) -> tuple[int, dict]:
        """Status and JSON answer for one delivery (runs on a worker thread)."""
        if not verify_signature(body, signature, self._secret):
            return 401, {"error": "invalid or missing signature"}
        try:
            event = parse_event(body)
        except InvalidWebhook as exc:
            quarantine_body(self._engine, body, str(exc))
            return 400, {"error": str(exc)}
        identity = inbox.event_id(event, body)
        inbox.record(self._engine, event, event_id=identity, received_at=datetime.now(UTC))
        outcome = inbox.apply_once(
            self._engine, identity, lambda tx, received_at: apply_event(tx, event, received_at=received_at)
        )
        return 200, {"status": outcome}

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        status, answer = _precheck(scope["method"], headers)
        if status == 200:
            body = await _read_body(receive)
            if body is None:
                return  # the client went away (or took too long and was cut off)
            if body is _TOO_LARGE:
                status, answer = 413, {"error": "a body of at most 1 MB is required"}
            else:
                signature = headers.get(_SIGNATURE, b"").decode("latin-1") or None
                try:
                    status, answer = await asyncio.get_running_loop().run_in_executor(
                        self._pool, self.handle, body, signature
                    )
                except Exception:
                    log.exception("webhook could not be applied")
                    status, answer = 500, {"error": "could not be applied; retry"}
        data = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": data})


def _precheck(method: str, headers: dict[bytes, bytes]) -> tuple[int, dict]:
    """Refuse what is not a delivery before reading the body: (200, {}) when it may be one."""
    if method != "POST":
        return 405, {"error": "webhooks are POSTed"}
    media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if media_type != b"application/json":
        return 415, {"error": "Content-Type must be application/json"}
    length = headers.get(b"content-length", b"")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return 413, {"error": "a body of at most 1 MB is required"}
    return 200, {}


#: `_read_body`'s answer for a body over the limit.
_TOO_LARGE = b"<too large>"


async def _read_body(receive: Any) -> bytes | None:
    """The request body (`_TOO_LARGE` past the limit, which is not kept); None when the client disconnected."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks) if size <= MAX_BODY_BYTES else _TOO_LARGE


class _RequestDeadline(HttpToolsProtocol):
    """uvicorn's HTTP protocol, plus: a request must arrive whole within `request_timeout_s` of the connection
    opening (or of the previous response), else the connection is closed.

    uvicorn times out idle keep-alive connections only; a client trickling its headers or body would be kept
    forever.
    """

    request_timeout_s = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()
