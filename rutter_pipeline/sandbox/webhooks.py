"""Signed webhook delivery from the sandbox (the signature helpers are the client's, `rutter.webhooks`).

Rutter signs the raw body: `X-Rutter-Signature: sha256=<base64 HMAC-SHA256(body, client_secret)>`. Deliveries
run on one background thread in the order events happen, each retried a few times with a growing pause.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import orjson
import requests

from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, sign, verify_signature

__all__ = ["SIGNATURE_HEADER", "WebhookSender", "sign", "verify_signature"]


class WebhookSender:
    """Delivers events to one URL on a background thread; failed deliveries are retried.

    Args:
        url: where events are POSTed; None disables delivery (events are still recorded in `sent`).
        secret: the client secret the bodies are signed with.
        attempts: deliveries tried per event before it is given up (and counted in `failed`).
        backoff_s: pause before the first retry, doubled for each further one.
    """

    def __init__(self, url: str | None, secret: str, *, attempts: int = 4, backoff_s: float = 0.2) -> None:
        self.url = url
        self._secret = secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sent: list[dict[str, Any]] = []
        self.failed = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the delivery thread (only when a URL is set)."""
        if self.url and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (up to `timeout_s`) and stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout_s)
            self._thread = None

    def send(self, event: dict[str, Any]) -> None:
        """Queue one event for delivery."""
        self.sent.append(event)
        if self.url:
            self._queue.put(event)

    def _run(self) -> None:
        url = self.url
        assert url is not None  # the thread is started only with a URL
        session = requests.Session()
        while (event := self._queue.get()) is not None:
            self._deliver(session, url, event)

    def _deliver(self, session: requests.Session, url: str, event: dict[str, Any]) -> None:
        body = orjson.dumps(event)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self._secret)}
        for attempt in range(self.attempts):
            try:
                response = session.post(url, data=body, headers=headers, timeout=5)
                if response.status_code < 300:
                    return
            except requests.RequestException:
                pass
            if attempt + 1 < self.attempts:
                time.sleep(self.backoff_s * 2**attempt)
        self.failed += 1
