"""Connections of the organisation and their health, parsed from `/connections*` responses.

Optional fields are tolerated when absent (real Rutter and other implementations differ in what they
send); a field that is present with the wrong type is a `ResponseError`, never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rutter_pipeline.rutter.catalog import Endpoint, Family
from rutter_pipeline.rutter.errors import ResponseError
from rutter_pipeline.rutter.platforms import family_of
from rutter_pipeline.rutter.timeutil import parse_iso

#: `/connections` statuses whose data cannot be read; an incremental pull of them would only fail.
UNPULLABLE_STATUSES = frozenset({"not_ready", "needs_reauth", "disabled"})


@dataclass(frozen=True)
class Connection:
    """One merchant's link to one platform. `access_token` authorises data reads and is never in `repr`."""

    id: str
    access_token: str = field(repr=False)
    platform: str
    status: str | None
    name: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def family(self) -> Family | None:
        """Commerce or accounting, from the platform; None for a platform this project does not know."""
        return family_of(self.platform)

    @property
    def families(self) -> tuple[Family, ...]:
        """The families whose data the connection can fill: its platform's, or both for an unknown platform."""
        return tuple(Family) if self.family is None else (self.family,)

    @property
    def pullable(self) -> bool:
        """Whether its listed status lets its data be read: not `not_ready`, `needs_reauth` or `disabled`.

        The one rule for who gets an incremental pull (the schedules ask it of every registered connection).
        """
        return (self.status or "").lower() not in UNPULLABLE_STATUSES


def serves(connection: Connection, endpoint: Endpoint) -> bool:
    """Whether the connection's platform can serve the endpoint (an unknown platform is tried on every one)."""
    return endpoint.family in connection.families


@dataclass(frozen=True)
class ConnectionStatus:
    """`GET /connections/status`: whether data is readable now."""

    is_ready: bool
    is_healthy: bool | None
    needs_update: bool
    is_disabled: bool
    disabled_reason: str | None
    last_sync_completed_at: datetime | None
    platform: str | None


@dataclass(frozen=True)
class ConnectionDetails:
    """`GET /connections/access_token`: sync timestamps and objects the platform does not provide."""

    last_sync_started_at: datetime | None
    last_sync_completed_at: datetime | None
    needs_update: bool
    disabled: bool
    unavailable_objects: tuple[str, ...]


class _Reader:
    """Typed access to one JSON object, raising `ResponseError` that names the endpoint and field."""

    def __init__(self, obj: Any, *, what: str, url: str, request_id: str | None) -> None:
        self._url = url
        self._request_id = request_id
        self._what = what
        if not isinstance(obj, dict):
            self.fail(f"{what} is {type(obj).__name__}, expected an object")
        self.obj: dict[str, Any] = obj

    def fail(self, message: str) -> None:
        raise ResponseError(status=200, error_message=message, request_id=self._request_id, url=self._url)

    def get(self, key: str, kind: type | tuple[type, ...], *, required: bool = False) -> Any:
        value = self.obj.get(key)
        if value is None:
            if required:
                self.fail(f"{self._what}.{key} is missing")
            return None
        if not isinstance(value, kind):
            self.fail(f"{self._what}.{key} is {type(value).__name__}, expected {kind}")
        return value

    def time(self, key: str) -> datetime | None:
        text = self.get(key, str)
        if text is None:
            return None
        try:
            return parse_iso(text)
        except ValueError:
            self.fail(f"{self._what}.{key} is not an ISO 8601 timestamp: {text!r}")
        return None

    def child(self, key: str) -> _Reader:
        return _Reader(self.obj.get(key) or {}, what=f"{self._what}.{key}", url=self._url, request_id=self._request_id)


def parse_connections(body: Any, *, url: str, request_id: str | None) -> list[Connection]:
    """Connections from a `GET /connections` body `{"connections": [...]}`."""
    items = _Reader(body, what="body", url=url, request_id=request_id).get("connections", list, required=True)
    connections = []
    for index, item in enumerate(items):
        reader = _Reader(item, what=f"connections[{index}]", url=url, request_id=request_id)
        connections.append(
            Connection(
                id=reader.get("id", str, required=True),
                access_token=reader.get("access_token", str, required=True),
                platform=reader.get("platform", str, required=True),
                status=reader.get("status", str),
                name=reader.get("name", str),
                created_at=reader.time("created_at"),
                updated_at=reader.time("updated_at"),
            )
        )
    return connections


def parse_status(body: Any, *, url: str, request_id: str | None) -> ConnectionStatus:
    """Status from a `GET /connections/status` body `{"status": {...}, "connection": {...}}`."""
    status = _Reader(body, what="body", url=url, request_id=request_id).child("status")
    if not status.obj:
        status.fail("body.status is missing")
    return ConnectionStatus(
        is_ready=bool(status.get("is_ready", bool, required=True)),
        is_healthy=status.get("is_healthy", bool),
        needs_update=bool(status.child("needs_update_status").get("needs_update", bool)),
        is_disabled=bool(status.child("disabled_status").get("is_disabled", bool)),
        disabled_reason=status.child("disabled_status").get("disabled_reason", str),
        last_sync_completed_at=status.time("last_sync_completed_at"),
        platform=status.get("platform", str),
    )


def parse_details(body: Any, *, url: str, request_id: str | None) -> ConnectionDetails:
    """Details from a `GET /connections/access_token` body `{"connection": {...}}`."""
    details = _Reader(body, what="body", url=url, request_id=request_id).child("connection")
    if not details.obj:
        details.fail("body.connection is missing")
    unavailable = details.get("unavailable_objects", list) or []
    if not all(isinstance(name, str) for name in unavailable):
        details.fail("body.connection.unavailable_objects must be a list of strings")
    return ConnectionDetails(
        last_sync_started_at=details.time("last_sync_started_at"),
        last_sync_completed_at=details.time("last_sync_completed_at"),
        needs_update=bool(details.get("needs_update", bool)),
        disabled=bool(details.get("disabled", bool)),
        unavailable_objects=tuple(unavailable),
    )
