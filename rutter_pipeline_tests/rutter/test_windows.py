"""How windows and increments become requests, and how answers are held to the window."""

from __future__ import annotations

from datetime import date

import pytest

from rutter_pipeline.rutter import catalog
from rutter_pipeline.rutter.paging import Page
from rutter_pipeline.rutter.timeutil import iso_to_ms, ms_to_iso
from rutter_pipeline.rutter.windows import Window, changed_params, hold_to_window, period_dates, window_params
from rutter_pipeline_tests.rutter.conftest import TOKEN, Answer

ORDERS = catalog.get("orders")
INVOICES = catalog.get("accounting_invoices")
CUSTOMERS = catalog.get("customers")
INCOME = catalog.get("accounting_income_statements")
MARCH = Window(iso_to_ms("2024-03-01T00:00:00Z"), iso_to_ms("2024-04-01T00:00:00Z"))


def test_created_at_windows_use_inclusive_bounds():
    assert window_params(ORDERS, MARCH) == {"created_at_min": MARCH.start_ms, "created_at_max": MARCH.end_ms - 1}
    assert window_params(ORDERS, Window(None, MARCH.end_ms)) == {
        "created_at_min": None,
        "created_at_max": MARCH.end_ms - 1,
    }


def test_accounting_windows_filter_created_at_from_the_start_and_sort_ascending():
    assert window_params(INVOICES, MARCH) == {
        "filter": 'created_at>"2024-02-29T23:59:59.999Z"',
        "sort": "created_at ASC",
    }
    assert window_params(INVOICES, Window(None, MARCH.end_ms)) == {"sort": "created_at ASC"}


def test_undated_documents_sorting_last_are_read_from_the_top_of_a_descending_listing(replay_client):
    script, client = replay_client
    dated = [
        {"id": "a", "created_at": ms_to_iso(MARCH.start_ms - 5)},
        {"id": "b", "created_at": ms_to_iso(MARCH.start_ms + 5)},
    ]
    undated = [{"id": "n1", "created_at": None}, {"id": "n2", "created_at": None}]
    script.add(
        Answer(body={"invoices": dated, "next_cursor": None}),  # ascending: cut at the window's end
        Answer(body={"invoices": undated + dated[::-1], "next_cursor": "more"}),  # descending: nulls on top
    )
    first = Window(None, MARCH.start_ms)
    ids = [o["id"] for p in client.window_pages(INVOICES, access_token=TOKEN, window=first) for o in p.objects]
    assert ids == ["a", "n1", "n2"]
    assert [q.query["sort"] for q in script.seen] == ["created_at ASC", "created_at DESC"]


def test_a_later_window_drops_undated_documents_a_server_lets_through(replay_client):
    script, client = replay_client
    script.fallback = Answer(
        body={"invoices": [{"id": "n", "created_at": None}, {"id": "m", "created_at": ms_to_iso(MARCH.start_ms)}]}
    )
    ids = [o["id"] for p in client.window_pages(INVOICES, access_token=TOKEN, window=MARCH) for o in p.objects]
    assert ids == ["m"]
    assert client.stats.dropped_outside_window == 1


def test_changed_params_per_incremental_mode():
    assert changed_params(INVOICES, 42) == {"last_synced_at_min": 42, "sort": "last_synced_at ASC"}
    assert changed_params(ORDERS, 42) == {"updated_at_min": 42}
    assert changed_params(catalog.get("payouts"), 42) == {}


def _obj(i, stamp):
    return {"id": str(i), "last_synced_at": stamp}


def test_hold_to_window_stops_at_the_first_object_past_the_end():
    pages = iter(
        [
            Page([_obj(1, "2024-03-05T00:00:00.000Z"), _obj(2, "2024-03-31T23:59:59.999Z")], "c1", "r1"),
            Page([_obj(3, "2024-04-01T00:00:00.000Z"), _obj(4, "2024-03-02T00:00:00.000Z")], "c2", "r2"),
            Page([_obj(5, "2024-03-03T00:00:00.000Z")], None, "r3"),
        ]
    )
    drops = []
    held = list(hold_to_window(pages, field="last_synced_at", window=MARCH, stop_at_end=True, on_drop=drops.append))
    assert [[o["id"] for o in p.objects] for p in held] == [["1", "2"], []]
    assert held[-1].next_cursor is None
    assert drops == []


def test_hold_to_window_drops_and_counts_objects_outside_and_keeps_those_without_a_stamp():
    page = Page(
        [
            {"id": "before", "created_at": ms_to_iso(MARCH.start_ms - 1)},
            {"id": "first", "created_at": ms_to_iso(MARCH.start_ms)},
            {"id": "null", "created_at": None},
            {"id": "after", "created_at": ms_to_iso(MARCH.end_ms)},
        ],
        None,
        "r",
    )
    drops = []
    held = list(hold_to_window(iter([page]), field="created_at", window=MARCH, stop_at_end=False, on_drop=drops.append))
    assert [o["id"] for o in held[0].objects] == ["first", "null"]
    assert drops == [2]


def test_period_dates_are_the_inclusive_calendar_month():
    assert period_dates(MARCH) == (date(2024, 3, 1), date(2024, 3, 31))
    open_ended = Window(None, None, period=(MARCH.start_ms, MARCH.end_ms))
    assert period_dates(open_ended) == (date(2024, 3, 1), date(2024, 3, 31))
    with pytest.raises(ValueError, match="no period"):
        period_dates(Window(None, MARCH.end_ms))


def test_unwindowable_endpoints_pull_everything_in_the_first_window_only(replay_client):
    script, client = replay_client
    script.fallback = Answer(body={"customers": [{"id": "c"}], "next_cursor": None})
    assert list(client.window_pages(CUSTOMERS, access_token=TOKEN, window=MARCH)) == []
    assert script.seen == []
    pages = list(client.window_pages(CUSTOMERS, access_token=TOKEN, window=Window(None, MARCH.start_ms)))
    assert [o["id"] for p in pages for o in p.objects] == ["c"]
    assert "created_at_min" not in script.seen[0].query


def test_period_windows_ask_for_the_month_reports(replay_client):
    script, client = replay_client
    script.fallback = Answer(body={"income_statements": [{"id": "s"}], "next_cursor": None})
    pages = list(client.window_pages(INCOME, access_token=TOKEN, window=MARCH))
    assert [o["id"] for p in pages for o in p.objects] == ["s"]
    query = script.seen[0].query
    assert (query["start_date"], query["end_date"]) == ("2024-03-01", "2024-03-31")
    assert "limit" not in query


def test_deleted_events_request(replay_client):
    script, client = replay_client
    script.fallback = Answer(body={"events": [{"id": "e", "type": "object_deleted"}]})
    pages = list(client.deleted_event_pages(access_token=TOKEN, since_ms=7, resources=["bill", "INVOICE"]))
    assert [o["id"] for p in pages for o in p.objects] == ["e"]
    query = script.seen[0].query
    assert query == {
        "type": "object_deleted",
        "last_synced_at_min": "7",
        "resources": "BILL,INVOICE",
        "limit": "2",
        "access_token": TOKEN,
    }
    assert script.seen[0].path == "/versioned/events"
