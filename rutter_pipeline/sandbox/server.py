"""HTTP transport: a threading HTTP/1.1 server in front of the API, the admin API, faults and the rate limit."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from rutter_pipeline.sandbox import api, auth
from rutter_pipeline.sandbox.errors import ApiError
from rutter_pipeline.sandbox.faults import Fault, FaultPlan
from rutter_pipeline.sandbox.listing import is_restart_cursor, restart_cursor
from rutter_pipeline.sandbox.ratelimit import SlidingWindowLimit
from rutter_pipeline.sandbox.world import World

PREFIX = "/versioned"
ADMIN_PREFIX = "/_sandbox"

AdminHandler = Callable[[str, str, dict[str, str], bytes], tuple[int, Any]]


class Service:
    """Everything a request handler needs, shared by all handler threads."""

    def __init__(
        self, *, world: World, client_id: str, client_secret: str, limit: SlidingWindowLimit, admin: AdminHandler
    ) -> None:
        self.world = world
        self.client_id = client_id
        self.client_secret = client_secret
        self.limit = limit
        self.faults = FaultPlan()
        self.admin = admin
        self._count_lock = threading.Lock()
        self.request_count = 0

    def count_request(self) -> None:
        """Count one served request."""
        with self._count_lock:
            self.request_count += 1


def _fault_error(fault: Fault) -> ApiError:
    if fault.kind == "429":
        headers = {} if fault.retry_after_s is None else {"Retry-After": f"{fault.retry_after_s:g}"}
        return ApiError(
            429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT_EXCEEDED", "too many requests (injected)", headers=headers
        )
    if fault.kind == "452":
        return ApiError(452, "PLATFORM_RATE_LIMIT", "PLATFORM_RATE_LIMITED", "the platform is rate limiting (injected)")
    return ApiError(int(fault.kind), "INTERNAL_SERVER_ERROR", "INTERNAL_SERVER_ERROR", "server error (injected)")


#: Faults applied to a normal answer rather than instead of one.
_AFTER_ANSWER = ("drop", "truncate", "extra_item", "cursor_cycle")


def _spoil(payload: dict[str, Any], fault: Fault, query: dict[str, str]) -> None:
    """Apply an `extra_item` or `cursor_cycle` fault to a list page (other answers are left alone)."""
    if "next_cursor" not in payload:
        return
    if fault.kind == "cursor_cycle":
        # Only pages asked with a real position point back: the restarted list then hands out its first
        # cursor again, A, start, A, start, ... (a page asked without a cursor only uses up one count).
        if query.get("cursor") and not is_restart_cursor(query["cursor"]):
            payload["next_cursor"] = restart_cursor(query)
        return
    items = next(value for value in payload.values() if isinstance(value, list))
    # A Fragment is sent verbatim: the item may be anything, valid JSON or not.
    items.insert(min(1, len(items)), orjson.Fragment((fault.item or "").encode()))


class Handler(BaseHTTPRequestHandler):
    """Routes `/versioned/...` to the API and `/_sandbox/...` to the admin API."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY every keep-alive response waits for the
    # client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server_version = "RutterSandbox/1.0"
    service: Service  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        """Quiet: request lines would flood test output (and URLs carry access tokens)."""

    def do_GET(self) -> None:
        """Serve a GET."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Serve a POST (admin API only)."""
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        request_id = str(uuid.uuid4())
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
        self.service.count_request()
        if parts.path.startswith(ADMIN_PREFIX):
            status, payload = self.service.admin(method, parts.path[len(ADMIN_PREFIX) :], query, body)
            self._send(status, payload, request_id)
            return
        try:
            payload, fault = self._answer(method, parts.path, query)
        except ApiError as error:
            self._send(error.status, error.body(), request_id, error.headers)
            return
        if fault is not None and fault.kind == "drop":
            self._drop()
            return
        self._send(200, payload, request_id, truncate=fault is not None and fault.kind == "truncate")

    def _answer(self, method: str, path: str, query: dict[str, str]) -> tuple[Any, Fault | None]:
        if not path.startswith(PREFIX + "/"):
            raise ApiError(
                404, "INVALID_REQUEST", "ENDPOINT_NOT_FOUND", f"no endpoint {path}; paths start with {PREFIX}"
            )
        if method != "GET":
            raise ApiError(405, "INVALID_REQUEST", "METHOD_NOT_ALLOWED", "the sandbox serves reads only")
        service = self.service
        auth.check_version(self.headers.get("X-Rutter-Version"))
        auth.check_basic_auth(
            self.headers.get("Authorization"), client_id=service.client_id, client_secret=service.client_secret
        )
        if not service.limit.admit():
            raise ApiError(
                429,
                "RATE_LIMIT_EXCEEDED",
                "RATE_LIMIT_EXCEEDED",
                f"more than {service.limit.max_requests} requests in {service.limit.per_seconds:g}s",
            )
        api_path = path[len(PREFIX) :]
        fault = service.faults.take(api_path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay_s or 0)
        elif fault is not None and fault.kind not in _AFTER_ANSWER:
            raise _fault_error(fault)
        payload = api.handle(service.world, api_path, query)
        if fault is not None and fault.kind in ("extra_item", "cursor_cycle"):
            _spoil(payload, fault, query)
        return payload, fault

    def _send(
        self, status: int, payload: Any, request_id: str, extra: dict[str, str] | None = None, *, truncate: bool = False
    ) -> None:
        data = orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Rutter-Request-ID", request_id)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close the socket without (the rest of) a response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class SandboxHTTPServer(ThreadingHTTPServer):
    """Threaded server whose handler threads die with the process."""

    daemon_threads = True
    allow_reuse_address = True


def make_server(service: Service, host: str, port: int) -> SandboxHTTPServer:
    """A bound (not yet serving) HTTP server for the service."""
    handler = type("BoundHandler", (Handler,), {"service": service})
    return SandboxHTTPServer((host, port), handler)
