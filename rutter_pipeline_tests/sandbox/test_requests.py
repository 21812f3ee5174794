"""Auth, version header, errors, filters, sort, connections and readiness over real HTTP."""

from __future__ import annotations

import requests

from rutter_pipeline.rutter.timeutil import iso_to_ms
from rutter_pipeline.sandbox import Sandbox


def _get(http: requests.Session, sb: Sandbox, path: str, **params: object) -> requests.Response:
    return http.get(f"{sb.base_url}{path}", params=params, timeout=30)


def test_missing_version_header_is_400(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    del rutter_http.headers["X-Rutter-Version"]
    response = _get(rutter_http, sandbox_session, "/connections")
    assert response.status_code == 400
    assert response.headers["X-Rutter-Request-ID"]


def test_wrong_secret_is_401_without_echoing_it(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    rutter_http.auth = ("sandbox-client-id", "not-the-secret")
    response = _get(rutter_http, sandbox_session, "/connections")
    assert response.status_code == 401
    assert response.json()["error_code"] == "INVALID_CREDENTIALS"
    assert "not-the-secret" not in response.text


def test_limit_above_maximum_is_400(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    token = sandbox_session.access_token("SHOPIFY")
    assert _get(rutter_http, sandbox_session, "/orders", access_token=token, limit=501).status_code == 400
    assert len(_get(rutter_http, sandbox_session, "/orders", access_token=token).json()["orders"]) == 50


def test_created_at_bounds_are_inclusive(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    token = sandbox_session.access_token("SHOPIFY")
    order = next(iter(sandbox_session.truth(sandbox_session.connection_id("SHOPIFY"), "/orders")))
    ms = iso_to_ms(order["created_at"])
    body = _get(
        rutter_http, sandbox_session, "/orders", access_token=token, created_at_min=ms, created_at_max=ms, limit=500
    ).json()
    assert order["id"] in {o["id"] for o in body["orders"]}
    assert all(iso_to_ms(o["created_at"]) == ms for o in body["orders"])


def test_month_boundary_orders_fall_on_either_side(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    stamps = {o["created_at"] for o in sandbox_session.truth(sandbox_session.connection_id("SHOPIFY"), "/orders")}
    boundary = next(s for s in stamps if s.endswith("-01T00:00:00.000Z"))
    assert any(s.endswith("T23:59:59.999Z") for s in stamps)
    token = sandbox_session.access_token("SHOPIFY")
    before = _get(
        rutter_http,
        sandbox_session,
        "/orders",
        access_token=token,
        limit=500,
        created_at_max=iso_to_ms(boundary) - 1,
        created_at_min=iso_to_ms(boundary) - 1,
    ).json()["orders"]
    assert [o["created_at"].endswith("23:59:59.999Z") for o in before] == [True]


def test_accounting_filter_and_sort(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    token = sandbox_session.access_token("QUICKBOOKS")
    body = _get(
        rutter_http,
        sandbox_session,
        "/accounting/invoices",
        access_token=token,
        limit=500,
        filter='status="paid" AND updated_at>="2020-01-01T00:00:00Z"',
        sort="updated_at ASC",
    ).json()
    invoices = body["invoices"]
    assert invoices and all(i["status"] == "paid" for i in invoices)
    assert [i["updated_at"] for i in invoices] == sorted(i["updated_at"] for i in invoices)
    bad = _get(rutter_http, sandbox_session, "/accounting/invoices", access_token=token, filter='nonsense="1"')
    assert bad.status_code == 400
    assert (
        _get(rutter_http, sandbox_session, "/accounting/invoices", access_token=token, sort="memo ASC").status_code
        == 400
    )


def test_null_timestamps_are_listed(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    token = sandbox_session.access_token("QUICKBOOKS")
    body = _get(rutter_http, sandbox_session, "/accounting/bills", access_token=token, limit=500).json()
    assert len(body["bills"]) == 300
    assert any(b["created_at"] is None and b["updated_at"] is None for b in body["bills"])


def test_last_synced_at_min_is_inclusive(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    token = sandbox_session.access_token("QUICKBOOKS")
    conn = sandbox_session.connection_id("QUICKBOOKS")
    latest = max(iso_to_ms(i["last_synced_at"]) for i in sandbox_session.truth(conn, "/accounting/invoices"))
    body = _get(
        rutter_http, sandbox_session, "/accounting/invoices", access_token=token, limit=500, last_synced_at_min=latest
    ).json()
    assert body["invoices"] and all(iso_to_ms(i["last_synced_at"]) == latest for i in body["invoices"])


def test_connections_and_family_and_readiness(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    listed = _get(rutter_http, sandbox_session, "/connections").json()["connections"]
    assert {c["status"] for c in listed} == {"active", "not_ready", "needs_reauth"}
    not_ready = _get(rutter_http, sandbox_session, "/connections", status="not_ready").json()["connections"]
    assert [c["platform"] for c in not_ready] == ["AMAZON"]
    amazon = sandbox_session.access_token("AMAZON")
    refused = _get(rutter_http, sandbox_session, "/orders", access_token=amazon)
    assert refused.json()["error_code"] == "PRODUCT_NOT_READY"
    assert _get(rutter_http, sandbox_session, "/orders", access_token=amazon, force_fetch="true").status_code == 200
    netsuite = sandbox_session.access_token("NETSUITE")
    assert (
        _get(rutter_http, sandbox_session, "/accounting/invoices", access_token=netsuite).json()["error_code"]
        == "NEEDS_UPDATE"
    )
    shopify = sandbox_session.access_token("SHOPIFY")
    wrong = _get(rutter_http, sandbox_session, "/accounting/invoices", access_token=shopify)
    assert wrong.status_code == 404 and wrong.json()["error_code"] == "ENDPOINT_NOT_SUPPORTED"
    status = _get(rutter_http, sandbox_session, "/connections/status", access_token=amazon).json()
    assert status["status"]["is_ready"] is False
    details = _get(rutter_http, sandbox_session, "/connections/access_token", access_token=netsuite).json()
    assert details["connection"]["needs_update"] is True


def test_same_id_on_two_endpoints(sandbox_session: Sandbox) -> None:
    commerce = {c["id"] for c in sandbox_session.truth(sandbox_session.connection_id("SHOPIFY"), "/customers")}
    accounting = {
        c["id"] for c in sandbox_session.truth(sandbox_session.connection_id("QUICKBOOKS"), "/accounting/customers")
    }
    assert commerce & accounting


def test_statements_one_per_month(sandbox_session: Sandbox, rutter_http: requests.Session) -> None:
    token = sandbox_session.access_token("QUICKBOOKS")
    body = _get(
        rutter_http,
        sandbox_session,
        "/accounting/income_statements",
        access_token=token,
        start_date="2024-01-01",
        end_date="2024-03-31",
    ).json()
    assert [s["start_date"][:10] for s in body["income_statements"]] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    info = _get(rutter_http, sandbox_session, "/accounting/company_info", access_token=token).json()
    assert info["company_info"]["name"]
