"""The admin API under `/_sandbox/...`: the Python API of `Sandbox` for other processes, as JSON over HTTP.

Unauthenticated on purpose (it is a local test double); bind the sandbox to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import orjson


class SandboxControls(Protocol):
    """What the admin API drives: the Python API of `Sandbox` (which it serves, so it does not import it)."""

    @property
    def request_count(self) -> int: ...

    @property
    def over_limit_count(self) -> int: ...

    def connections(self) -> list[dict[str, Any]]: ...

    def truth(self, connection_id: str, path: str) -> Iterable[dict[str, Any]]: ...

    def deleted_ids(self, connection_id: str, path: str) -> set[str]: ...

    def create(self, connection_id: str, path: str, fields: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def update(
        self, connection_id: str, path: str, object_id: str, changes: dict[str, Any], *, late: bool = False
    ) -> dict[str, Any]: ...

    def delete(self, connection_id: str, path: str, object_id: str) -> None: ...

    def refresh(self) -> None: ...

    def make_ready(self, connection_id: str) -> None: ...

    def add_connection(
        self,
        platform: str,
        *,
        name: str | None = None,
        ready: bool = True,
        needs_update: bool = False,
        unhealthy: bool = False,
        disabled: bool = False,
        counts: dict[str, int] | None = None,
        **object_counts: int,
    ) -> dict[str, Any]: ...

    def inject_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        path: str | None = None,
        retry_after_s: float | None = None,
        delay_s: float | None = None,
        item: str | None = None,
    ) -> None: ...

    def serve_connection_details(self, enabled: bool) -> None: ...


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str]]:
    return status, {"error_type": "SANDBOX_ADMIN", "error_code": code, "error_message": message}


class AdminApi:
    """Routes `/_sandbox/<operation>` requests to a Sandbox."""

    def __init__(self, sandbox: SandboxControls) -> None:
        self.sandbox = sandbox

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        """Run one admin operation; returns (HTTP status, JSON payload)."""
        routes = {
            ("GET", "/connections"): self._connections,
            ("GET", "/truth"): self._truth,
            ("GET", "/deleted_ids"): self._deleted_ids,
            ("GET", "/stats"): self._stats,
            ("POST", "/create"): self._create,
            ("POST", "/update"): self._update,
            ("POST", "/delete"): self._delete,
            ("POST", "/refresh"): self._refresh,
            ("POST", "/make_ready"): self._make_ready,
            ("POST", "/add_connection"): self._add_connection,
            ("POST", "/faults"): self._faults,
            ("POST", "/connection_details"): self._connection_details,
        }
        route = routes.get((method, path.rstrip("/")))
        if route is None:
            return _error(404, "UNKNOWN_OPERATION", f"no admin operation {method} /_sandbox{path}")
        try:
            args = query if method == "GET" else (orjson.loads(body) if body else {})
            if not isinstance(args, dict):
                return _error(400, "INVALID_BODY", "the request body must be a JSON object")
            return 200, route(args)
        except orjson.JSONDecodeError:
            return _error(400, "INVALID_BODY", "the request body is not JSON")
        except KeyError as exc:
            return _error(404, "NOT_FOUND", str(exc.args[0]) if exc.args else "not found")
        except (ValueError, TypeError) as exc:
            return _error(400, "INVALID_ARGUMENT", str(exc))

    def _connections(self, args: dict[str, Any]) -> Any:
        return {"connections": self.sandbox.connections()}

    def _truth(self, args: dict[str, Any]) -> Any:
        return {"objects": list(self.sandbox.truth(args["connection_id"], args["path"]))}

    def _deleted_ids(self, args: dict[str, Any]) -> Any:
        return {"ids": sorted(self.sandbox.deleted_ids(args["connection_id"], args["path"]))}

    def _stats(self, args: dict[str, Any]) -> Any:
        return {"request_count": self.sandbox.request_count, "over_limit_count": self.sandbox.over_limit_count}

    def _create(self, args: dict[str, Any]) -> Any:
        return self.sandbox.create(args["connection_id"], args["path"], args.get("fields"))

    def _update(self, args: dict[str, Any]) -> Any:
        return self.sandbox.update(
            args["connection_id"], args["path"], args["object_id"], args["changes"], late=bool(args.get("late", False))
        )

    def _delete(self, args: dict[str, Any]) -> Any:
        self.sandbox.delete(args["connection_id"], args["path"], args["object_id"])
        return {"deleted": args["object_id"]}

    def _refresh(self, args: dict[str, Any]) -> Any:
        self.sandbox.refresh()
        return {"refreshed": True}

    def _make_ready(self, args: dict[str, Any]) -> Any:
        self.sandbox.make_ready(args["connection_id"])
        return {"ready": args["connection_id"]}

    def _add_connection(self, args: dict[str, Any]) -> Any:
        platform = args.pop("platform")
        return self.sandbox.add_connection(platform, **args)

    def _faults(self, args: dict[str, Any]) -> Any:
        self.sandbox.inject_fault(args.pop("kind"), **args)
        return {"injected": True}

    def _connection_details(self, args: dict[str, Any]) -> Any:
        enabled = args["enabled"]
        if not isinstance(enabled, bool):
            raise ValueError("enabled must be true or false")
        self.sandbox.serve_connection_details(enabled)
        return {"connection_details": enabled}
