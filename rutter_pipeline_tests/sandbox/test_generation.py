"""Generated data: deterministic from the seed, orders that add up and refer to real objects, ids that can be
looked up although they are not stored."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from rutter_pipeline.sandbox import Sandbox
from rutter_pipeline.sandbox.ids import IdSpace, stable_uuid

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


def _cents(value: object) -> int:
    return int(Decimal(str(value)) * 100)


def test_same_seed_same_objects_and_the_wire_matches_truth(rutter_http: requests.Session) -> None:
    with Sandbox(seed=11, now=NOW) as first:
        again = Sandbox(seed=11, now=NOW)
        other = Sandbox(seed=12, now=NOW)
        try:
            orders = list(first.truth("SHOPIFY", "/orders"))
            assert orders == list(again.truth("SHOPIFY", "/orders"))
            assert list(first.truth("QUICKBOOKS", "/accounting/invoices")) == list(
                again.truth("QUICKBOOKS", "/accounting/invoices")
            )
            assert {o["id"] for o in orders}.isdisjoint(o["id"] for o in other.truth("SHOPIFY", "/orders"))
        finally:
            again.stop()
            other.stop()
        served = rutter_http.get(
            f"{first.base_url}/orders", timeout=30, params={"access_token": first.access_token("SHOPIFY"), "limit": 500}
        ).json()["orders"]
        by_id = {o["id"]: o for o in orders}
        assert len(served) == 500 and all(o == by_id[o["id"]] for o in served)
        assert any("\u0000" in o["billing_address"]["address2"] for o in orders)


def test_orders_add_up_and_refer_to_objects_of_their_connection(sandbox_session: Sandbox) -> None:
    conn = sandbox_session.connection_id("SHOPIFY")
    products = {p["id"] for p in sandbox_session.truth(conn, "/products")}
    customers = {c["id"] for c in sandbox_session.truth(conn, "/customers")}
    orders = list(sandbox_session.truth(conn, "/orders"))
    for order in orders:
        lines = order["line_items"]
        items = sum(_cents(line["price"]) * line["quantity"] for line in lines)
        assert _cents(order["total_line_items_price"]) == items
        assert _cents(order["total_price"]) == (
            items + _cents(order["total_tax"]) + _cents(order["total_shipping"]) - _cents(order["total_discount"])
        )
        assert {line["product_id"] for line in lines} <= products
        assert order["customer"]["id"] in customers
        line_ids = {line["id"] for line in lines}
        assert len(line_ids) == len(lines)
        for fulfillment in order["fulfillments"]:
            assert {line["id"] for line in fulfillment["line_items"]} == line_ids
        prices = {line["id"]: _cents(line["price"]) for line in lines}
        for refund in order["refunds"]:
            for returned in refund["line_items"]:
                assert _cents(returned["amount"]) == prices[returned["line_item_id"]] * returned["quantity"]
    statuses = {o["payment_status"] for o in orders} | {o["status"] for o in orders}
    assert {"paid", "refunded", "active", "cancelled"} <= statuses
    all_line_ids = [line["id"] for o in orders for line in o["line_items"]]
    assert len(all_line_ids) == len(set(all_line_ids))


def test_id_space_reads_sequence_numbers_back_and_rejects_other_ids() -> None:
    space, other = IdSpace(12345), IdSpace(54321)
    for seq in (0, 1, 499_999, 10**9):
        object_id = space.id_of(seq)
        assert len(object_id) == 36 and object_id[14] == "4"
        assert space.seq_of(object_id) == seq
        assert other.seq_of(object_id) is None
    assert space.seq_of(stable_uuid("unrelated")) is None
    assert space.seq_of("not-an-id") is None
    assert len({space.id_of(seq) for seq in range(10_000)}) == 10_000


def test_generated_objects_are_found_by_id_and_unknown_ids_are_not(sandbox: Sandbox) -> None:
    conn = sandbox.connection_id("SHOPIFY")
    last = list(sandbox.truth(conn, "/orders"))[-1]
    assert sandbox.update(conn, "/orders", last["id"], {"tags": ["found"]})["tags"] == ["found"]
    shared = next(iter(sandbox.truth("QUICKBOOKS", "/accounting/vendors")))["id"]
    sandbox.delete("QUICKBOOKS", "/accounting/vendors", shared)
    assert shared in {c["id"] for c in sandbox.truth("QUICKBOOKS", "/accounting/customers")}
    with pytest.raises(KeyError):
        sandbox.update(conn, "/orders", stable_uuid("no such order"), {"tags": []})
    with pytest.raises(KeyError):
        sandbox.delete(conn, "/products", last["id"])
