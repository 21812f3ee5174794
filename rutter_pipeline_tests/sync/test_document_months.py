"""Accounting month partitions hold that month's documents (`created_at`), whatever Rutter does with nulls.

Runs the sandbox with null `created_at` sorting first and last (Rutter does not document which), and with
`last_synced_at` bunched at the initial sync (as Rutter stamps it) or spread over the history: in every case
each month window returns exactly the documents created in it (undated ones in the first month), each object
is read from Rutter once, and loading every month inserts each object once.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from rutter_pipeline.rutter import catalog
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.timeutil import iso_to_ms
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.sync import backfill
from rutter_pipeline.sync.periods import month_windows

PAGE = 25
ENDPOINTS = [catalog.get(name) for name in ("accounting_invoices", "accounting_items", "accounting_accounts")]
NOW = datetime.now(UTC)
#: Four months back: the first window takes everything older (most of the sandbox's 26 months) and the nulls.
FIRST_MONTH = datetime(NOW.year - (NOW.month <= 4), (NOW.month - 5) % 12 + 1, 1, tzinfo=UTC)


@pytest.fixture(
    params=[("first", "bunched"), ("last", "bunched"), ("first", "spread"), ("last", "spread")],
    ids=lambda p: f"nulls-{p[0]}-synced-{p[1]}",
)
def books(request):
    nulls, synced = request.param
    sandbox = Sandbox(seed=4, profile="empty", nulls=nulls, synced=synced, rate_limit=None)
    sandbox.add_connection("QUICKBOOKS", name="Books", invoices=180, items=40, accounts=30)
    sandbox.start()
    client = RutterClient(
        base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, page_size=PAGE
    )
    try:
        yield sandbox, client, nulls, synced
    finally:
        client.close()
        sandbox.stop()


def _expected_window(obj: dict, windows) -> int:
    """Index of the window an object belongs to: its created_at month; undated ones in the first."""
    if obj.get("created_at") is None:
        return 0
    ms = iso_to_ms(obj["created_at"])
    return next(
        n
        for n, w in enumerate(windows)
        if (w.start_ms is None or ms >= w.start_ms) and (w.end_ms is None or ms < w.end_ms)
    )


def test_each_month_window_returns_that_months_documents_once(books):
    sandbox, client, nulls, synced = books
    connection = client.list_connections()[0]
    windows = month_windows(FIRST_MONTH)
    for endpoint in ENDPOINTS:
        truth = list(sandbox.truth(connection.id, endpoint.path))
        expected = [sorted(o["id"] for o in truth if _expected_window(o, windows) == n) for n in range(len(windows))]
        undated = sum(1 for o in truth if o.get("created_at") is None)
        before = client.stats.requests
        got = []
        for window in windows:
            got.append(
                sorted(
                    o["id"]
                    for p in client.window_pages(endpoint, access_token=connection.access_token, window=window)
                    for o in p.objects
                )
            )
        requests = client.stats.requests - before
        assert got == expected, endpoint.path
        assert max(Counter(i for ids in got for i in ids).values()) == 1
        # A window reads its own pages and at most one page it stops in; undated objects sorting last cost
        # the first window one descending listing up to the first dated object.
        bound = sum(len(ids) // PAGE + 1 for ids in expected) + (undated // PAGE + 1 if nulls == "last" else 0)
        assert requests <= bound, (endpoint.path, requests, bound)
    assert client.stats.dropped_outside_window == 0
    # The shapes differ as intended: bunched stamps put most documents in one last_synced_at month.
    synced_months = Counter(o["last_synced_at"][:7] for o in sandbox.truth(connection.id, "/accounting/invoices"))
    assert (synced_months.most_common(1)[0][1] > 150) is (synced == "bunched")


def test_loading_every_month_inserts_each_document_once(books, pg_engine):
    sandbox, client, _, _ = books
    connection = client.list_connections()[0]
    invoices = catalog.get("accounting_invoices")
    windows = month_windows(FIRST_MONTH)
    summaries = [
        backfill(client=client, engine=pg_engine, connection=connection, endpoint=invoices, window=w) for w in windows
    ]
    truth = list(sandbox.truth(connection.id, invoices.path))
    per_window = Counter(_expected_window(o, windows) for o in truth)
    assert [s.inserted for s in summaries] == [per_window[n] for n in range(len(windows))]
    assert sum(s.fetched for s in summaries) == len(truth)
    assert all(s.updated == 0 and s.unchanged == 0 for s in summaries)
