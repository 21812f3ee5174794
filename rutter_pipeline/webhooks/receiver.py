"""An HTTP endpoint for Rutter webhooks: verify the signature, then apply the event."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, InvalidWebhook, parse_event, verify_signature
from rutter_pipeline.webhooks.apply import apply_event, quarantine_body

log = logging.getLogger("rutter_pipeline.webhooks")

#: Rutter's events are small; anything larger is refused before it is read.
MAX_BODY_BYTES = 1_000_000


class WebhookReceiver:
    """Serves `POST /` (any path) for Rutter webhooks on a background thread.

    Args:
        engine: the warehouse.
        client_secret: the organisation's client secret, which signs the bodies.
    """

    def __init__(self, engine: Engine, client_secret: str) -> None:
        self._engine = engine
        self._secret = client_secret
        self._server: ThreadingHTTPServer | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; returns the URL to configure in Rutter."""
        handler = type("Handler", (_Handler,), {"receiver": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        threading.Thread(target=self._server.serve_forever, name="rutter-webhooks", daemon=True).start()
        return f"http://{host}:{self._server.server_address[1]}/"

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, body: bytes, signature: str | None) -> tuple[int, dict]:
        """Status and JSON answer for one delivery."""
        if not verify_signature(body, signature, self._secret):
            return 401, {"error": "invalid or missing signature"}
        try:
            event = parse_event(body)
        except InvalidWebhook as exc:
            quarantine_body(self._engine, body, str(exc))
            return 400, {"error": str(exc)}
        outcome = apply_event(self._engine, event, received_at=datetime.now(timezone.utc))
        return 200, {"status": outcome}


class _Handler(BaseHTTPRequestHandler):
    receiver: WebhookReceiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        """Silent: request lines are not useful and bodies carry access tokens."""

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        """Receive one delivery."""
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self._answer(413 if length.isdigit() else 411, {"error": "a body of at most 1 MB is required"})
            return
        body = self.rfile.read(int(length))
        try:
            status, answer = self.receiver.handle(body, self.headers.get(SIGNATURE_HEADER))
        except Exception:  # noqa: BLE001 - Rutter retries a failed delivery; say so rather than drop the socket
            log.exception("webhook could not be applied")
            status, answer = 500, {"error": "could not be applied; retry"}
        self._answer(status, answer)

    def _answer(self, status: int, answer: dict) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
