"""Parsing of connection listings, status and details, tolerant of absent optional fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.connections import parse_connections, parse_details, parse_status
from rutter_pipeline.rutter.errors import ResponseError

WHERE = {"url": "https://h/versioned/connections", "request_id": "rid"}


def test_connections_parse_and_hide_their_token():
    body = {
        "connections": [
            {
                "id": "c1",
                "access_token": "tok-secret",
                "platform": "SHOPIFY",
                "status": "active",
                "name": "Shop",
                "created_at": "2023-01-02T02:34:56.000Z",
                "updated_at": "2023-01-03T00:00:00Z",
                "link_url": "https://x",
            },
            {"id": "c2", "access_token": "t2", "platform": "SOMETHING_NEW"},
        ]
    }
    first, second = parse_connections(body, **WHERE)
    assert first.family is Family.COMMERCE and second.family is None
    assert first.created_at == datetime(2023, 1, 2, 2, 34, 56, tzinfo=UTC)
    assert second.name is None and second.created_at is None
    assert "tok-secret" not in repr(first)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body.connections is missing"),
        ({"connections": [{"id": "c", "platform": "XERO"}]}, "access_token is missing"),
        ({"connections": [{"id": 1, "access_token": "t", "platform": "XERO"}]}, "id is int"),
        ({"connections": [{"id": "c", "access_token": "t", "platform": "XERO", "created_at": "yesterday"}]}, "ISO"),
    ],
)
def test_malformed_connections_are_rejected(body, message):
    with pytest.raises(ResponseError, match=message):
        parse_connections(body, **WHERE)


def test_status_parses_nested_flags():
    body = {
        "status": {
            "is_ready": False,
            "is_healthy": True,
            "last_sync_completed_at": None,
            "platform": "AMAZON",
            "needs_update_status": {"needs_update": True},
            "disabled_status": {"is_disabled": True, "disabled_reason": "SHOP_IS_LOCKED"},
            "historical_sync_status": {},
        },
        "connection": {"id": "c"},
    }
    status = parse_status(body, **WHERE)
    assert (status.is_ready, status.is_healthy, status.needs_update, status.is_disabled) == (False, True, True, True)
    assert status.disabled_reason == "SHOP_IS_LOCKED" and status.last_sync_completed_at is None


def test_status_tolerates_absent_optional_parts():
    status = parse_status({"status": {"is_ready": True}}, **WHERE)
    assert status.is_ready and status.is_healthy is None and not status.needs_update and not status.is_disabled
    with pytest.raises(ResponseError, match="is_ready is missing"):
        parse_status({"status": {"is_healthy": True}}, **WHERE)


def test_details():
    body = {
        "connection": {
            "id": "c",
            "last_sync_started_at": "2024-05-01T10:00:00.000Z",
            "last_sync_completed_at": "2024-05-01T10:05:00.000Z",
            "needs_update": False,
            "disabled": False,
            "unavailable_objects": ["ORDERS"],
        }
    }
    details = parse_details(body, **WHERE)
    assert details.last_sync_started_at < details.last_sync_completed_at
    assert details.unavailable_objects == ("ORDERS",)
    minimal = parse_details({"connection": {"id": "c", "unavailable_objects": None}}, **WHERE)
    assert minimal.unavailable_objects == () and minimal.last_sync_started_at is None
    with pytest.raises(ResponseError, match="unavailable_objects"):
        parse_details({"connection": {"unavailable_objects": [1]}}, **WHERE)
