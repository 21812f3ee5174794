"""Against the sandbox: every object exactly once, across pages, while data changes, and across windows."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime

from rutter_pipeline.rutter import catalog
from rutter_pipeline.rutter.timeutil import iso_to_ms, to_ms
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline_tests.rutter.conftest import sandbox_client

ORDERS = catalog.get("orders")
INVOICES = catalog.get("accounting_invoices")


def _ids(pages) -> Counter:
    return Counter(obj["id"] for page in pages for obj in page.objects)


def test_pagination_returns_every_object_exactly_once(sandbox_session):
    sb = sandbox_session
    client = sandbox_client(sb, page_size=37)
    for platform, endpoint in (("SHOPIFY", ORDERS), ("QUICKBOOKS", INVOICES)):
        token, conn = sb.access_token(platform), sb.connection_id(platform)
        seen = _ids(client.changed_pages(endpoint, access_token=token, since_ms=None))
        truth = Counter(obj["id"] for obj in sb.truth(conn, endpoint.path))
        assert seen == truth, endpoint.path
        assert max(seen.values()) == 1


def test_unchanged_objects_come_exactly_once_while_others_change_between_pages(sandbox):
    sb = sandbox
    client = sandbox_client(sb, page_size=50)
    conn, token = sb.connection_id("QUICKBOOKS"), sb.access_token("QUICKBOOKS")
    before = [obj["id"] for obj in sb.truth(conn, INVOICES.path)]
    changed: set[str] = set()
    seen: Counter = Counter()
    for number, page in enumerate(client.changed_pages(INVOICES, access_token=token, since_ms=None)):
        seen.update(obj["id"] for obj in page.objects)
        if number < 4:
            # Touch one object already served and one not yet served; the refresh gives both a new stamp.
            for object_id in (page.objects[0]["id"], before[-1 - number]):
                sb.update(conn, INVOICES.path, object_id, {"memo": f"changed {number}"})
                changed.add(object_id)
            sb.refresh()
    for object_id in before:
        if object_id in changed:
            assert seen[object_id] >= 1, object_id
        else:
            assert seen[object_id] == 1, object_id


def _month_starts(first: datetime, last: datetime) -> list[int]:
    starts, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        starts.append(to_ms(datetime(year, month, 1, tzinfo=UTC)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return starts


def _windows(bounds: list[int]) -> list[Window]:
    edges = [None, *sorted(set(bounds)), None]
    return [Window(a, b) for a, b in itertools.pairwise(edges)]


def _partition(client, endpoint, token, windows, field):
    placed: dict[str, list[Window]] = {}
    for window in windows:
        for page in client.window_pages(endpoint, access_token=token, window=window):
            for obj in page.objects:
                placed.setdefault(obj["id"], []).append(window)
                stamp = obj.get(field)
                assert stamp is None or window.contains(iso_to_ms(stamp)), (obj["id"], stamp, str(window))
    return placed


def test_monthly_order_windows_partition_the_orders_exactly(sandbox_session):
    sb = sandbox_session
    client = sandbox_client(sb)
    conn, token = sb.connection_id("SHOPIFY"), sb.access_token("SHOPIFY")
    truth = {obj["id"]: obj for obj in sb.truth(conn, ORDERS.path)}
    created = sorted(iso_to_ms(obj["created_at"]) for obj in truth.values())
    first_recent = datetime.fromtimestamp(created[len(created) // 50] / 1000, tz=UTC)
    windows = _windows(_month_starts(first_recent, datetime.now(UTC)))
    placed = _partition(client, ORDERS, token, windows, "created_at")
    assert set(placed) == set(truth)
    assert all(len(hits) == 1 for hits in placed.values())
    assert client.stats.dropped_outside_window == 0
    on_boundary = [i for i, o in truth.items() if iso_to_ms(o["created_at"]) in {w.start_ms for w in windows}]
    just_before = [i for i, o in truth.items() if iso_to_ms(o["created_at"]) + 1 in {w.start_ms for w in windows}]
    assert on_boundary, "the sandbox has orders exactly on a month boundary"
    for object_id in on_boundary:
        assert placed[object_id][0].start_ms == iso_to_ms(truth[object_id]["created_at"])
    for object_id in just_before:
        assert placed[object_id][0].end_ms == iso_to_ms(truth[object_id]["created_at"]) + 1
    very_old = min(truth, key=lambda i: truth[i]["created_at"])
    assert truth[very_old]["created_at"] < "2016" and placed[very_old][0].start_ms is None


def test_created_at_windows_partition_the_invoices_exactly_while_they_change(sandbox):
    sb = sandbox
    client = sandbox_client(sb, page_size=40)
    conn, token = sb.connection_id("QUICKBOOKS"), sb.access_token("QUICKBOOKS")
    ids = [obj["id"] for obj in sb.truth(conn, INVOICES.path)]
    for batch in (ids[:30], ids[30:45]):
        for object_id in batch:
            sb.update(conn, INVOICES.path, object_id, {"memo": "touched"})
        sb.refresh()
    truth = {obj["id"]: obj for obj in sb.truth(conn, INVOICES.path)}
    stamps = sorted({iso_to_ms(obj["created_at"]) for obj in truth.values() if obj["created_at"]})
    # Bounds exactly on an object's created_at, just after one, and on a month start.
    bounds = [stamps[1], stamps[-1], stamps[-1] + 1, _month_starts(datetime(2024, 1, 1), datetime(2024, 2, 1))[0]]
    windows = _windows(bounds)
    placed = _partition(client, INVOICES, token, windows, "created_at")
    assert set(placed) == set(truth)
    assert all(len(hits) == 1 for hits in placed.values())
    nulls = [i for i, obj in truth.items() if obj["created_at"] is None]
    assert nulls and all(placed[i] == [windows[0]] for i in nulls), "undated invoices belong to the first window"
