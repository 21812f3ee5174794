"""Pagination over real HTTP: every object exactly once, also while objects change between pages."""

from __future__ import annotations

import itertools

import requests

from rutter_pipeline.rutter.timeutil import iso_to_ms
from rutter_pipeline.sandbox import Sandbox


def _pages(http: requests.Session, url: str, key: str, params: dict) -> list[dict]:
    objects, cursor = [], None
    while True:
        body = http.get(url, params={**params, **({"cursor": cursor} if cursor else {})}, timeout=30).json()
        objects += body[key]
        cursor = body["next_cursor"]
        if not cursor:
            return objects


def test_orders_pages_return_every_order_once(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    token = sandbox_session.access_token("SHOPIFY")
    served = _pages(rutter_http, f"{sandbox_session.base_url}/orders", "orders", {"access_token": token, "limit": 500})
    truth = {o["id"] for o in sandbox_session.truth(sandbox_session.connection_id("SHOPIFY"), "/orders")}
    assert len(served) == len(truth) == 2000
    assert {o["id"] for o in served} == truth


def test_default_order_is_updated_at_descending(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    token = sandbox_session.access_token("SHOPIFY")
    served = _pages(rutter_http, f"{sandbox_session.base_url}/orders", "orders", {"access_token": token, "limit": 500})
    stamps = [o["updated_at"] for o in served]
    assert stamps == sorted(stamps, reverse=True)


def test_invoices_paginate_over_a_shared_last_synced_at(
    sandbox_session: Sandbox, rutter_http: requests.Session
) -> None:
    token = sandbox_session.access_token("QUICKBOOKS")
    served = _pages(
        rutter_http,
        f"{sandbox_session.base_url}/accounting/invoices",
        "invoices",
        {"access_token": token, "limit": 7, "sort": "last_synced_at ASC"},
    )
    ids = [o["id"] for o in served]
    assert len(ids) == len(set(ids)) == 400
    synced = [o["last_synced_at"] for o in served]
    assert synced == sorted(synced)
    assert max(synced.count(s) for s in set(synced)) > 7


def test_pagination_survives_changes_between_pages(sandbox: Sandbox, rutter_http: requests.Session) -> None:
    conn = sandbox.connection_id("SHOPIFY")
    token = sandbox.access_token("SHOPIFY")
    url = f"{sandbox.base_url}/orders"
    first = rutter_http.get(url, params={"access_token": token, "limit": 500}, timeout=30).json()
    seen = [o["id"] for o in first["orders"]]
    changed = {seen[10], seen[-1]}
    for object_id in changed:
        sandbox.update(conn, "/orders", object_id, {"tags": ["changed"]})
    new = sandbox.create(conn, "/orders")
    rest = _pages(rutter_http, url, "orders", {"access_token": token, "limit": 500, "cursor": first["next_cursor"]})
    later = [o["id"] for o in rest]
    assert len(later) == len(set(later))
    unchanged_seen = set(seen) - changed
    assert not unchanged_seen & set(later)
    assert set(seen) | set(later) | {new["id"]} >= {o["id"] for o in sandbox.truth(conn, "/orders")}


def test_created_at_windows_partition_orders_also_after_updates(
    sandbox: Sandbox, rutter_http: requests.Session
) -> None:
    conn, token = sandbox.connection_id("SHOPIFY"), sandbox.access_token("SHOPIFY")
    orders = list(sandbox.truth(conn, "/orders"))
    oldest = min(orders, key=lambda o: o["created_at"])
    sandbox.update(conn, "/orders", oldest["id"], {"tags": ["touched years later"]})
    stamps = sorted(iso_to_ms(o["created_at"]) for o in orders)
    edges = [stamps[0], stamps[len(stamps) // 3], stamps[2 * len(stamps) // 3], stamps[-1] + 1]
    seen: list[str] = []
    for start, end in itertools.pairwise(edges):
        window = _pages(
            rutter_http,
            f"{sandbox.base_url}/orders",
            "orders",
            {"access_token": token, "limit": 200, "created_at_min": start, "created_at_max": end - 1},
        )
        assert all(start <= iso_to_ms(o["created_at"]) < end for o in window)
        seen += [o["id"] for o in window]
    assert sorted(seen) == sorted(o["id"] for o in orders)
