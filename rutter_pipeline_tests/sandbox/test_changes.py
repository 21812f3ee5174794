"""Change over time: late updates, refresh, deletions reported by /events, webhooks signed and retried."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from rutter_pipeline.rutter.catalog import BY_DELETED_RESOURCE
from rutter_pipeline.sandbox import Sandbox, sign, verify_signature
from rutter_pipeline.sandbox.spec import spec_for


def _served(http: requests.Session, sb: Sandbox, path: str, token: str, key: str, **params: object) -> list[dict]:
    return http.get(f"{sb.base_url}{path}", params={"access_token": token, "limit": 500, **params}, timeout=30).json()[
        key
    ]


def test_late_update_is_served_after_refresh_with_its_own_stamp(
    sandbox: Sandbox, rutter_http: requests.Session
) -> None:
    conn, token = sandbox.connection_id("SHOPIFY"), sandbox.access_token("SHOPIFY")
    order = next(iter(sandbox.truth(conn, "/orders")))
    changed = sandbox.update(conn, "/orders", order["id"], {"status": "archived"}, late=True)
    now = {o["id"]: o for o in sandbox.truth(conn, "/orders")}[order["id"]]
    assert now["status"] == order["status"]
    time.sleep(0.01)
    sandbox.refresh()
    after = {o["id"]: o for o in _served(rutter_http, sandbox, "/orders", token, "orders", limit=1)}
    served = {o["id"]: o for o in sandbox.truth(conn, "/orders")}[order["id"]]
    assert served["status"] == "archived"
    assert served["updated_at"] == changed["updated_at"]
    assert order["id"] in after


def test_refresh_restamps_touched_accounting_objects(sandbox: Sandbox, rutter_http: requests.Session) -> None:
    conn, token = sandbox.connection_id("QUICKBOOKS"), sandbox.access_token("QUICKBOOKS")
    invoices = list(sandbox.truth(conn, "/accounting/invoices"))[:3]
    for invoice in invoices:
        sandbox.update(conn, "/accounting/invoices", invoice["id"], {"memo": "changed"})
    sandbox.refresh()
    latest = _served(
        rutter_http, sandbox, "/accounting/invoices", token, "invoices", sort="last_synced_at DESC", limit=3
    )
    assert {i["id"] for i in latest} == {i["id"] for i in invoices}
    assert len({i["last_synced_at"] for i in latest}) == 1


def test_deleted_invoice_is_reported_by_events(sandbox: Sandbox, rutter_http: requests.Session) -> None:
    conn, token = sandbox.connection_id("QUICKBOOKS"), sandbox.access_token("QUICKBOOKS")
    victim = next(iter(sandbox.truth(conn, "/accounting/invoices")))
    sandbox.delete(conn, "/accounting/invoices", victim["id"])
    listed = _served(rutter_http, sandbox, "/accounting/invoices", token, "invoices")
    assert victim["id"] not in {i["id"] for i in listed}
    events = rutter_http.get(
        f"{sandbox.base_url}/events",
        timeout=30,
        params={
            "access_token": token,
            "type": "object_deleted",
            "resources": "INVOICE,BILL",
            "last_synced_at_min": 0,
        },
    ).json()
    assert "connection" not in events
    assert [(e["resource"], e["data"]["id"]) for e in events["events"]] == [("INVOICE", victim["id"])]
    assert sandbox.deleted_ids(conn, "/accounting/invoices") == {victim["id"]}


def test_deletion_events_use_the_catalog_resource_names(sandbox: Sandbox, rutter_http: requests.Session) -> None:
    conn, token = sandbox.connection_id("QUICKBOOKS"), sandbox.access_token("QUICKBOOKS")
    deleted = set()
    for endpoint in BY_DELETED_RESOURCE.values():
        victim = next(iter(sandbox.truth(conn, endpoint.path)))
        sandbox.delete(conn, endpoint.path, victim["id"])
        deleted.add((endpoint.deleted_event_resource, victim["id"]))
    url = f"{sandbox.base_url}/events"
    params = {"access_token": token, "type": "object_deleted", "last_synced_at_min": 0}
    served = rutter_http.get(url, params=params, timeout=30).json()["events"]
    assert {(e["resource"], e["data"]["id"]) for e in served} == deleted
    events = spec_for("/events")
    documented = events["query_param_details"]["resources"]["allowed_values"]
    names = {name for name, _ in deleted}
    assert {"ITEMS", "TAX_RATES", "CLASS", "DEPARTMENT", "ACCOUNTING_CUSTOMER"} <= names <= set(documented)
    some = rutter_http.get(url, params={**params, "resources": "ITEMS,TAX_RATES"}, timeout=30).json()["events"]
    assert sorted(e["resource"] for e in some) == ["ITEMS", "TAX_RATES"]
    undocumented = rutter_http.get(url, params={**params, "resources": "ITEM"}, timeout=30)
    assert undocumented.status_code == 400


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str]]] = []
    failures_left = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.failures_left > 0:
            _Receiver.failures_left -= 1
            self.send_response(500)
        else:
            _Receiver.received.append((body, self.headers["X-Rutter-Signature"]))
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received, _Receiver.failures_left = [], 1
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_and_retried(receiver: str) -> None:
    with Sandbox(seed=7, webhook_url=receiver, client_secret="s3cret") as sb:
        sb.make_ready(sb.connection_id("AMAZON"))
        conn = sb.connection_id("SHOPIFY")
        sb.delete(conn, "/orders", next(iter(sb.truth(conn, "/orders")))["id"])
    codes = []
    for body, signature in _Receiver.received:
        assert verify_signature(body, signature, "s3cret")
        assert not verify_signature(body, signature, "other")
        codes.append(requests.models.complexjson.loads(body)["code"])
    assert codes == ["INITIAL_UPDATE", "ORDER_DELETED"]
    assert sign(b"{}", "k").startswith("sha256=")
