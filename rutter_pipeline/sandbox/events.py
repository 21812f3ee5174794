"""`GET /events?type=object_deleted`: deletions of accounting objects, oldest first, keyset-paginated."""

from __future__ import annotations

from typing import Any

from rutter_pipeline.rutter.catalog import BY_DELETED_RESOURCE
from rutter_pipeline.rutter.platforms import DELETE_EVENT_PLATFORMS
from rutter_pipeline.rutter.timeutil import ms_to_iso
from rutter_pipeline.sandbox.cursor import decode_cursor, encode_cursor
from rutter_pipeline.sandbox.errors import bad_request
from rutter_pipeline.sandbox.filters import parse_ms
from rutter_pipeline.sandbox.ids import stable_uuid
from rutter_pipeline.sandbox.listing import MAX_LIMIT, parse_limit
from rutter_pipeline.sandbox.model import SandboxConnection
from rutter_pipeline.sandbox.spec import spec_for
from rutter_pipeline.sandbox.world import EP_INDEX, EP_PATH, World

#: The catalog's `/events` resource name → data path, for the endpoints the sandbox serves.
RESOURCE_PATHS: dict[str, str] = {name: e.path for name, e in BY_DELETED_RESOURCE.items() if e.path in EP_INDEX}
_RESOURCE_OF = {path: name for name, path in RESOURCE_PATHS.items()}
#: Every documented `resources` value: accepted, even when the sandbox never deletes objects of it.
_DOCUMENTED = frozenset(spec_for("/events")["query_param_details"]["resources"]["allowed_values"])


def resource_of(path: str) -> str | None:
    """The `/events` resource name under which deletions of `path` are reported, if any."""
    return _RESOURCE_OF.get(path)


def _resources(raw: str | None) -> list[str]:
    if not raw:
        return list(RESOURCE_PATHS)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in RESOURCE_PATHS and n not in _DOCUMENTED]
    if unknown:
        raise bad_request(f"unknown resources {unknown}")
    return [n for n in names if n in RESOURCE_PATHS]


def event_page(*, world: World, conn: SandboxConnection, query: dict[str, str]) -> dict[str, Any]:
    """The body of one `/events` request (no `connection` key, default limit 500)."""
    if query.get("type", "object_deleted") != "object_deleted":
        raise bad_request("type must be object_deleted")
    limit = parse_limit(query.get("limit"), default=MAX_LIMIT)
    if query.get("cursor"):
        listing, position = decode_cursor(query["cursor"])
        if len(position) != 3:
            raise bad_request("cursor does not belong to /events", "INVALID_CURSOR")
        after: tuple[int, int, int] | None = (position[0], position[1], position[2])
    else:
        listing = {k: query[k] for k in ("last_synced_at_min", "resources") if k in query}
        after = None
    since = parse_ms("last_synced_at_min", listing["last_synced_at_min"]) if "last_synced_at_min" in listing else 0
    eps = [EP_INDEX[RESOURCE_PATHS[name]] for name in _resources(listing.get("resources"))]
    if conn.platform not in DELETE_EVENT_PLATFORMS or not eps:
        return {"events": [], "next_cursor": None}
    rows = world.store.deleted_page(conn=conn.index, eps=eps, since_ms=since, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    found = [
        {
            "id": stable_uuid(conn.id, "event", row.ep, row.seq),
            "data": {"id": row.id},
            "resource": resource_of(EP_PATH[row.ep]),
            "type": "object_deleted",
            "last_synced_at": ms_to_iso(row.deleted_ms or 0),
        }
        for row in rows
    ]
    last = rows[-1] if rows else None
    next_cursor = encode_cursor(listing, [last.deleted_ms or 0, last.ep, last.seq]) if more and last else None
    return {"events": found, "next_cursor": next_cursor}
