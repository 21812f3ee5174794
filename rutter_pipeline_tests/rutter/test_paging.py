"""Cursor pagination and body validation, against the replay server."""

from __future__ import annotations

import pytest

from rutter_pipeline.rutter import errors
from rutter_pipeline_tests.rutter.conftest import TOKEN, Answer


def _page(objects, cursor="absent"):
    body = {"orders": objects}
    if cursor != "absent":
        body["next_cursor"] = cursor
    return Answer(body=body)


def test_follows_cursors_until_null_one_page_at_a_time(replay_client):
    script, client = replay_client
    script.add(_page([{"id": "a"}, {"id": "b"}], "c1"), _page([{"id": "c"}], "c2"), _page([], None))
    pages = client.iter_pages("/orders", access_token=TOKEN, response_key="orders", params={"x": 1})
    first = next(pages)
    assert [o["id"] for o in first.objects] == ["a", "b"] and first.next_cursor == "c1"
    assert len(script.seen) == 1, "the next page is only asked for when the caller wants it"
    rest = list(pages)
    assert [len(p.objects) for p in rest] == [1, 0]
    assert [s.query.get("cursor") for s in script.seen] == [None, "c1", "c2"]
    assert all(s.query["x"] == "1" and s.query["limit"] == "2" for s in script.seen)
    assert client.stats.pages == 3
    assert first.request_id == "req-1"


def test_absent_or_empty_cursor_ends_the_list(replay_client):
    script, client = replay_client
    script.add(_page([{"id": "a"}], "c1"), _page([{"id": "b"}]))
    assert len(list(client.iter_pages("/orders", access_token=TOKEN, response_key="orders"))) == 2
    script.add(_page([{"id": "a"}], ""))
    assert len(list(client.iter_pages("/orders", access_token=TOKEN, response_key="orders"))) == 1


def test_a_cursor_that_does_not_advance_is_an_error(replay_client):
    script, client = replay_client
    script.add(_page([{"id": "a"}], "same"), _page([{"id": "a"}], "same"))
    with pytest.raises(errors.CursorCycle, match="page 2 returned the cursor page 2 was asked with"):
        list(client.iter_pages("/orders", access_token=TOKEN, response_key="orders"))
    assert len(script.seen) == 2


def test_a_cursor_cycle_is_an_error_after_the_pages_before_it(replay_client):
    script, client = replay_client
    script.add(_page([{"id": "a"}], "A"), _page([{"id": "b"}], "B"), _page([{"id": "c"}], "A"))
    pages = client.iter_pages("/orders", access_token=TOKEN, response_key="orders")
    assert [page.objects[0]["id"] for page in (next(pages), next(pages), next(pages))] == ["a", "b", "c"]
    with pytest.raises(errors.CursorCycle) as caught:
        next(pages)
    assert "cursor cycle in /orders: page 3 returned the cursor page 2 was asked with" in str(caught.value)
    assert TOKEN not in str(caught.value) and len(script.seen) == 3


def test_items_that_are_not_objects_stay_in_the_page_for_the_loader(replay_client):
    script, client = replay_client
    script.add(Answer(body=b'{"orders": [{"id": "a"}, "b", {"id": "c", "x": NaN}, [1]], "next_cursor": null}'))
    [page] = client.iter_pages("/orders", access_token=TOKEN, response_key="orders")
    assert page.objects[0] == {"id": "a"} and page.objects[1] == "b" and page.objects[3] == [1]
    assert page.objects[2].object_id == "c" and "NaN is not JSON" in page.objects[2].reason
    assert len(script.seen) == 1, "an item that does not decode is not a reason to ask again"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"id": "a"}], "body is list"),
        ({"items": []}, "'orders' is missing"),
        ({"orders": {"id": "a"}}, "'orders' is dict"),
        ({"orders": [], "next_cursor": 5}, "next_cursor is int"),
    ],
)
def test_bodies_without_the_documented_shape_are_rejected(replay_client, body, message):
    script, client = replay_client
    script.add(Answer(body=body))
    with pytest.raises(errors.ResponseError, match=message) as caught:
        list(client.iter_pages("/orders", access_token=TOKEN, response_key="orders"))
    assert "/versioned/orders" in str(caught.value) and "req-1" in str(caught.value)
    assert TOKEN not in str(caught.value)
