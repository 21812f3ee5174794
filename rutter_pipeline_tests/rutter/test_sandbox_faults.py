"""Against the sandbox: faults survived, errors typed and clear, rate limit respected, secrets kept."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from rutter_pipeline.rutter import catalog, errors
from rutter_pipeline.rutter.ratelimit import SlidingWindowRateLimiter
from rutter_pipeline.rutter.retry import RetryPolicy
from rutter_pipeline.sandbox import DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline_tests.rutter.conftest import sandbox_client

ORDERS = catalog.get("orders")
INVOICES = catalog.get("accounting_invoices")


def _pull_ids(client, endpoint, token) -> list[str]:
    pages = client.changed_pages(endpoint, access_token=token, since_ms=None)
    return [obj["id"] for page in pages for obj in page.objects]


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("429", {}),
        ("429", {"retry_after_s": 1}),
        ("452", {}),
        ("500", {}),
        ("502", {}),
        ("503", {}),
        ("drop", {}),
        ("truncate", {}),
        ("slow", {"delay_s": 2.5}),
    ],
)
def test_every_retryable_fault_is_survived(sandbox, kind, options):
    client = sandbox_client(sandbox, page_size=200, timeout_s=1.0)
    conn, token = sandbox.connection_id("QUICKBOOKS"), sandbox.access_token("QUICKBOOKS")
    sandbox.inject_fault(kind, count=2, path=INVOICES.path, **options)
    ids = _pull_ids(client, INVOICES, token)
    assert sorted(ids) == sorted(obj["id"] for obj in sandbox.truth(conn, INVOICES.path))
    assert client.stats.retries == 2
    if options.get("retry_after_s"):
        assert client.stats.waited_s >= 2 * options["retry_after_s"]


def test_a_fault_that_outlasts_the_retries_is_raised_with_its_status(sandbox):
    client = sandbox_client(sandbox, retry=RetryPolicy(max_attempts=3, base_delay_s=0.01))
    sandbox.inject_fault("503", count=5, path="/orders")
    with pytest.raises(errors.ServerError) as caught:
        _pull_ids(client, ORDERS, sandbox.access_token("SHOPIFY"))
    assert caught.value.status == 503 and caught.value.request_id
    assert "gave up after 3 attempts" in "".join(caught.value.__notes__)


def test_readiness_and_reauthentication_are_classified(sandbox_session):
    client = sandbox_client(sandbox_session)
    with pytest.raises(errors.ProductNotReady, match="PRODUCT_NOT_READY") as not_ready:
        _pull_ids(client, ORDERS, sandbox_session.access_token("AMAZON"))
    with pytest.raises(errors.NeedsReauthentication, match="NEEDS_UPDATE") as reauth:
        _pull_ids(client, INVOICES, sandbox_session.access_token("NETSUITE"))
    assert client.stats.retries == 0
    for error in (not_ready.value, reauth.value):
        assert error.request_id and error.request_id in str(error)
    assert not client.connection_status(sandbox_session.access_token("AMAZON")).is_ready
    assert client.connection_status(sandbox_session.access_token("NETSUITE")).needs_update
    assert client.connection_details(sandbox_session.access_token("NETSUITE")).needs_update


def test_non_retryable_errors_are_raised_at_once_with_a_clear_message(sandbox_session):
    client = sandbox_client(sandbox_session)
    qb_token = sandbox_session.access_token("QUICKBOOKS")
    with pytest.raises(errors.NotSupported, match="404") as not_supported:
        _pull_ids(client, ORDERS, qb_token)
    with pytest.raises(errors.BadRequest, match="400"):
        list(client.iter_pages(INVOICES.path, access_token=qb_token, response_key="invoices", params={"sort": "x"}))
    too_big = sandbox_client(sandbox_session, page_size=5000)
    with pytest.raises(errors.BadRequest, match="limit"):
        _pull_ids(too_big, INVOICES, qb_token)
    wrong = sandbox_client(sandbox_session, client_secret="not-the-secret")
    with pytest.raises(errors.InvalidCredentials) as invalid:
        wrong.list_connections()
    assert "not-the-secret" not in str(invalid.value)
    with pytest.raises(errors.InvalidCredentials):
        _pull_ids(client, ORDERS, "no-such-token")
    assert client.stats.retries == 0
    assert "/versioned/orders" in not_supported.value.url and qb_token not in str(not_supported.value)


def test_connections_objects_reports_and_deletions(sandbox):
    client = sandbox_client(sandbox)
    platforms = {conn.platform: conn for conn in client.list_connections()}
    assert {"SHOPIFY", "QUICKBOOKS", "XERO", "AMAZON", "NETSUITE"} <= set(platforms)
    assert [c.platform for c in client.list_connections(status="not_ready")] == ["AMAZON"]
    quickbooks = platforms["QUICKBOOKS"]
    info = client.get_object(catalog.get("accounting_company_info"), access_token=quickbooks.access_token)
    assert info["id"] and info["name"]
    reports = client.get_reports(
        catalog.get("accounting_income_statements"),
        access_token=quickbooks.access_token,
        start_date="2025-01-01",
        end_date="2025-03-31",
    )
    assert len(reports) == 3
    since = int(time.time() * 1000) - 1
    victim = next(sandbox.truth(quickbooks.id, INVOICES.path))["id"]
    sandbox.delete(quickbooks.id, INVOICES.path, victim)
    pages = client.deleted_event_pages(access_token=quickbooks.access_token, since_ms=since, resources=["INVOICE"])
    events = [event for page in pages for event in page.objects]
    assert [(e["type"], e["resource"]) for e in events] == [("object_deleted", "INVOICE")]
    assert victim in str(events[0]["data"])


def test_threads_sharing_one_limiter_never_see_a_429():
    with Sandbox(seed=7, rate_limit=(100, 1.0)) as sandbox:
        limiter = SlidingWindowRateLimiter(100, 1.0)
        token = sandbox.access_token("QUICKBOOKS")
        failures: list[BaseException] = []
        clients = [sandbox_client(sandbox, rate_limiter=limiter, page_size=3) for _ in range(4)]

        def pull(client) -> None:
            try:
                assert len(_pull_ids(client, INVOICES, token)) == 400
            except BaseException as exc:  # noqa: BLE001 - surfaced in the main thread below
                failures.append(exc)

        threads = [threading.Thread(target=pull, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert sum(c.stats.requests for c in clients) > 500
        assert sum(c.stats.retries for c in clients) == 0, "the limiter kept every request inside the budget"


def test_without_a_shared_limiter_the_429s_are_retried_and_backed_off():
    with Sandbox(seed=7, rate_limit=(10, 1.0)) as sandbox:
        client = sandbox_client(sandbox, rate_limiter=SlidingWindowRateLimiter(1000, 1.0), page_size=10)
        assert len(_pull_ids(client, INVOICES, sandbox.access_token("QUICKBOOKS"))) == 400
        assert client.stats.retries > 0


def test_no_secret_in_logs_or_errors(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    client = sandbox_client(sandbox, page_size=100)
    token = sandbox.access_token("SHOPIFY")
    sandbox.inject_fault("500", count=1, path="/orders")
    sandbox.inject_fault("drop", count=1, path="/orders")
    _pull_ids(client, ORDERS, token)
    with pytest.raises(errors.NotSupported) as caught:
        _pull_ids(client, INVOICES, token)
    records = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "rutter_pipeline.rutter" in records and "retrying" in records
    for secret in (token, DEFAULT_CLIENT_SECRET):
        assert secret not in records
        assert secret not in str(caught.value) and secret not in repr(client)


def test_requests_per_second_with_small_pages(sandbox_session):
    client = sandbox_client(sandbox_session, page_size=10, rate_limiter=SlidingWindowRateLimiter(100_000, 1.0))
    started = time.perf_counter()
    ids = _pull_ids(client, INVOICES, sandbox_session.access_token("QUICKBOOKS"))
    elapsed = time.perf_counter() - started
    rate = client.stats.requests / elapsed
    print(f"\nclient against sandbox: {client.stats.requests} requests of 10 invoices in {elapsed:.2f}s = {rate:.0f}/s")
    assert len(ids) == 400 and rate > 5
