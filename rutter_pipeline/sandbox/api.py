"""The documented API under `/versioned`: connections, data endpoints, statements and deletion events."""

from __future__ import annotations

from typing import Any

from rutter_pipeline.sandbox import events, reports
from rutter_pipeline.sandbox.errors import ApiError, bad_request
from rutter_pipeline.sandbox.listing import list_page
from rutter_pipeline.sandbox.model import SandboxConnection
from rutter_pipeline.sandbox.spec import endpoint_specs
from rutter_pipeline.sandbox.world import EP_INDEX, World

#: PRODUCT_NOT_READY and NEEDS_UPDATE are answered with 409 (Rutter does not document the status).
NOT_READY_STATUS = 409
NEEDS_UPDATE_STATUS = 409
_CONNECTION_STATUSES = ("active", "unhealthy", "not_ready", "needs_reauth", "disabled", "any")


def handle(world: World, path: str, query: dict[str, str]) -> dict[str, Any]:
    """The JSON body for an authenticated GET of `path` (relative to `/versioned`); raises ApiError."""
    if path == "/connections":
        return _list_connections(world, query)
    if path == "/connections/status":
        return _connection_status(_connection(world, query))
    if path == "/connections/access_token":
        conn = _connection(world, query)
        if not world.serves_connection_details:
            raise ApiError(
                404,
                "INVALID_REQUEST",
                "ENDPOINT_NOT_SUPPORTED",
                f"connection details are not supported for {conn.platform} connections",
            )
        return {"connection": _connection_details(conn)}
    if path == "/events":
        return events.event_page(world=world, conn=_connection(world, query), query=query)
    spec = endpoint_specs().get(path)
    if spec is None:
        raise ApiError(404, "INVALID_REQUEST", "ENDPOINT_NOT_FOUND", f"no endpoint {path}")
    conn = _connection(world, query)
    _check_servable(conn, spec, query)
    if spec["kind"] == "report_list":
        return reports.report_page(world=world, conn=conn, path=path, query=query)
    if spec["kind"] == "single":
        rows = world.store.all_rows(conn=conn.index, ep=EP_INDEX[path])
        if not rows:
            raise ApiError(404, "INVALID_REQUEST", "ENDPOINT_NOT_SUPPORTED", f"{path} has no data for this connection")
        return {spec["response_key"]: world.render(conn, path, rows[0]), "connection": conn.envelope()}
    return list_page(store=world.store, conn=conn, path=path, ep=EP_INDEX[path], query=query, anchor_ms=world.anchor_ms)


def _connection(world: World, query: dict[str, str]) -> SandboxConnection:
    token = query.get("access_token")
    if not token:
        raise bad_request("the access_token query parameter is required", "MISSING_ACCESS_TOKEN")
    conn = world.by_token(token)
    if conn is None:
        raise ApiError(401, "INVALID_REQUEST", "INVALID_ACCESS_TOKEN", "the access_token does not match a connection")
    return conn


def _check_servable(conn: SandboxConnection, spec: dict[str, Any], query: dict[str, str]) -> None:
    if spec["family"] != conn.family:
        raise ApiError(
            404,
            "INVALID_REQUEST",
            "ENDPOINT_NOT_SUPPORTED",
            f"{spec['path']} is not supported for {conn.platform} connections",
        )
    if conn.disabled:
        raise ApiError(NEEDS_UPDATE_STATUS, "CONNECTION_ERROR", "CONNECTION_DISABLED", "the connection is disabled")
    if conn.needs_update:
        raise ApiError(
            NEEDS_UPDATE_STATUS, "CONNECTION_ERROR", "NEEDS_UPDATE", "the merchant must re-authenticate this connection"
        )
    if not conn.ready and query.get("force_fetch") != "true":
        raise ApiError(
            NOT_READY_STATUS,
            "PRODUCT_ERROR",
            "PRODUCT_NOT_READY",
            "the initial sync of this connection has not finished; retry later or pass force_fetch=true",
        )


def _list_connections(world: World, query: dict[str, str]) -> dict[str, Any]:
    wanted = query.get("status", "any")
    if wanted not in _CONNECTION_STATUSES:
        raise bad_request(f"status must be one of {', '.join(_CONNECTION_STATUSES)}")
    return {
        "connections": [
            c.listing()
            for c in world.connections
            if wanted == "any"
            or c.status == wanted
            or (wanted == "unhealthy" and c.status in ("needs_reauth", "disabled"))
        ]
    }


def _connection_status(conn: SandboxConnection) -> dict[str, Any]:
    listing = conn.listing()
    status = {
        "is_ready": conn.ready,
        "is_healthy": not (conn.needs_update or conn.disabled or conn.unhealthy),
        "last_sync_completed_at": listing["updated_at"] if conn.ready else None,
        "link_url": listing["link_url"],
        "platform": conn.platform,
        "created_at": listing["created_at"],
        "needs_update_status": {"needs_update": conn.needs_update},
        "disabled_status": {
            "is_disabled": conn.disabled,
            "disabled_reason": "SHOP_IS_DISABLED_OR_EXPIRED" if conn.disabled else None,
        },
        "historical_sync_status": {
            "historical_sync_completed": conn.ready,
            "total": {},
            "num_batches_completed": 1 if conn.ready else 0,
            "synced_balance_sheets_count": None,
            "synced_cash_flows_count": None,
            "synced_income_statements_count": None,
            "synced_orders_count": conn.counts.get("/orders"),
            "synced_transactions_count": conn.counts.get("/transactions"),
            "expected_entity_counts": None,
            "batches": [],
        },
    }
    return {"status": status, "connection": conn.envelope()}


def _connection_details(conn: SandboxConnection) -> dict[str, Any]:
    listing = conn.listing()
    return {
        "id": conn.id,
        "store_unique_id": f"{conn.platform.lower()}-{conn.index}",
        "last_sync_started_at": listing["updated_at"],
        "last_sync_completed_at": listing["updated_at"] if conn.ready else None,
        "disabled": conn.disabled,
        "link_url": listing["link_url"],
        "needs_update": conn.needs_update,
        "platform": conn.platform,
        "store_domain": f"{conn.name.lower().replace(' ', '-')}.example.com",
        "store_name": conn.name,
        "unavailable_objects": [],
        "created_at": listing["created_at"],
    }
