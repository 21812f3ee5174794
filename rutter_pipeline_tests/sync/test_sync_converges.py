"""The warehouse ends equal to Rutter's truth after backfill, changes, deletes and increments."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from rutter_pipeline.rutter.catalog import ENDPOINTS, Kind, endpoints_for
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sync import FreshnessPolicy, apply_deletes, backfill, incremental
from rutter_pipeline.sync.periods import month_windows
from rutter_pipeline_tests.sync.truth import assert_matches_truth, stored_rows

LISTS = [e for e in ENDPOINTS if e.kind is not Kind.REPORT]


def ready_connections(client) -> list[Connection]:
    # The schedules' rule for who gets an incremental pull.
    return [connection for connection in client.list_connections() if connection.pullable]


def backfill_all(client, engine, connection: Connection, first_month: datetime) -> list:
    summaries = []
    for window in month_windows(first_month):
        for endpoint in ENDPOINTS:
            summaries.append(
                backfill(client=client, engine=engine, connection=connection, endpoint=endpoint, window=window)
            )
    return summaries


def pull_all(client, engine, connection: Connection) -> list:
    summaries = [incremental(client=client, engine=engine, connection=connection, endpoint=e) for e in ENDPOINTS]
    summaries.append(apply_deletes(client=client, engine=engine, connection=connection))
    return summaries


def three_months_back() -> datetime:
    now = datetime.now(UTC)
    month = now.month - 3
    return datetime(now.year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def test_backfill_changes_deletes_and_increments_converge_to_truth(sandbox, client, engine):
    connections = ready_connections(client)
    assert {c.platform for c in connections} >= {"SHOPIFY", "QUICKBOOKS", "XERO"}
    for connection in connections:
        summaries = backfill_all(client, engine, connection, three_months_back())
        not_applicable = {s.endpoint for s in summaries if s.status == "not_applicable"}
        assert not_applicable == {e.name for e in ENDPOINTS if e.family is not connection.family}
        for endpoint in endpoints_for(connection.family):
            if endpoint.kind is not Kind.REPORT:
                assert_matches_truth(engine, sandbox, connection.id, endpoint)

    shop = next(c for c in connections if c.platform == "SHOPIFY")
    books = next(c for c in connections if c.platform == "QUICKBOOKS")
    orders = list(sandbox.truth(shop.id, "/orders"))
    invoices = list(sandbox.truth(books.id, "/accounting/invoices"))
    sandbox.create(shop.id, "/orders")
    sandbox.update(shop.id, "/orders", orders[0]["id"], {"status": "archived"})
    sandbox.update(shop.id, "/orders", orders[1]["id"], {"status": "cancelled"}, late=True)
    sandbox.create(books.id, "/accounting/invoices")
    sandbox.update(books.id, "/accounting/invoices", invoices[0]["id"], {"memo": "paid late"})
    sandbox.delete(books.id, "/accounting/invoices", invoices[1]["id"])
    sandbox.refresh()

    for connection in connections:
        pull_all(client, engine, connection)
        for endpoint in endpoints_for(connection.family):
            if endpoint.kind is not Kind.REPORT:
                assert_matches_truth(engine, sandbox, connection.id, endpoint)
    deleted = stored_rows(engine, next(e for e in ENDPOINTS if e.name == "accounting_invoices"), books.id, live=False)
    assert invoices[1]["id"] in deleted

    again = [s for c in connections for s in pull_all(client, engine, c)]
    assert sum(s.inserted + s.updated + s.deleted for s in again) == 0, [s.as_dict() for s in again if s.written]


def test_an_update_that_becomes_visible_late_is_not_missed(sandbox, client, pg_engine):
    """An update stamped before a pull but served only after Rutter's next refresh still lands.

    Without a clock-skew margin, a watermark taken from the pull's own start time would be later than the
    update's stamp and skip it; the watermark from Rutter's last completed refresh does not.
    """
    exact = FreshnessPolicy(clock_skew_ms=0)
    shop = next(c for c in ready_connections(client) if c.platform == "SHOPIFY")
    orders = next(e for e in LISTS if e.name == "orders")
    backfill(
        client=client, engine=pg_engine, connection=shop, endpoint=orders, window=Window(None, None), freshness=exact
    )
    target = next(iter(sandbox.truth(shop.id, "/orders")))
    sandbox.update(shop.id, "/orders", target["id"], {"status": "cancelled"}, late=True)
    time.sleep(1.5)

    first = incremental(client=client, engine=pg_engine, connection=shop, endpoint=orders, freshness=exact)
    assert stored_rows(pg_engine, orders, shop.id)[target["id"]]["status"] != "cancelled"
    assert first.status == "ok" and first.watermark_ms is not None
    sandbox.refresh()
    second = incremental(client=client, engine=pg_engine, connection=shop, endpoint=orders, freshness=exact)
    assert stored_rows(pg_engine, orders, shop.id)[target["id"]]["status"] == "cancelled"
    assert second.updated == 1
