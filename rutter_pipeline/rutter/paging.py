"""Cursor pagination: follow `next_cursor` page by page, holding one page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rutter_pipeline.rutter.errors import CursorCycle, ResponseError
from rutter_pipeline.rutter.transport import Reply, Transport


@dataclass(frozen=True)
class Page:
    """One page of objects as the API returned it (after window trimming, if any).

    Attributes:
        objects: the items, unchanged JSON: objects, except the odd item that is not one (a string, an
            `UndecodableItem`), which the loader quarantines.
        next_cursor: the cursor of the following page, None on the last page.
        request_id: `X-Rutter-Request-ID` of the response.
    """

    objects: list[Any]
    next_cursor: str | None
    request_id: str | None


def _fail(reply: Reply, message: str) -> ResponseError:
    return ResponseError(status=200, error_message=message, request_id=reply.request_id, url=reply.url)


def parse_page(reply: Reply, *, response_key: str) -> Page:
    """Validate a list body `{"<response_key>": [{...}, ...], "next_cursor": ...}` and make a Page.

    Items that are not objects (a string, an `UndecodableItem`) stay in the page: the loader quarantines them
    with their reason and loads the rest.

    Raises:
        ResponseError: the body is not an object, the key is missing or not a list, or the cursor is not a
            string or null.
    """
    body = reply.body
    if not isinstance(body, dict):
        raise _fail(reply, f"body is {type(body).__name__}, expected an object with {response_key!r}")
    objects = body.get(response_key)
    if not isinstance(objects, list):
        got = "missing" if response_key not in body else type(objects).__name__
        raise _fail(reply, f"{response_key!r} is {got}, expected a list of objects")
    cursor = body.get("next_cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise _fail(reply, f"next_cursor is {type(cursor).__name__}, expected a string or null")
    # An empty cursor cannot point anywhere; sending it back would restart the list from the top.
    return Page(objects=objects, next_cursor=cursor or None, request_id=reply.request_id)


def iter_pages(
    transport: Transport,
    path: str,
    *,
    access_token: str | None,
    response_key: str,
    params: dict[str, Any],
    page_size: int | None,
) -> Iterator[Page]:
    """Yield every page of a list endpoint, following `next_cursor` until it is null or absent.

    Args:
        transport: sends the requests.
        path: API path, e.g. `/accounting/invoices`.
        access_token: the connection's token (None for organisation-level endpoints).
        response_key: the key holding the object list.
        params: filters; None values are not sent.
        page_size: `limit` to ask for; None sends no limit (endpoints that do not take one).

    Raises:
        ResponseError: a body without the documented shape.
        CursorCycle: a page returned a cursor already followed in this list (after yielding that page).
    """
    cursor: str | None = None
    # Page number that first asked for each cursor: a cursor handed back again means a cycle (A, B, A, ...).
    asked: dict[str, int] = {}
    number = 1
    while True:
        query = {**params, "limit": page_size, "cursor": cursor}
        reply = transport.get(path, query, access_token=access_token)
        page = parse_page(reply, response_key=response_key)
        transport.stats.add(pages=1)
        # The page itself is good: the caller loads it before the cycle is reported.
        yield page
        if page.next_cursor is None:
            return
        if page.next_cursor in asked:
            raise CursorCycle(
                status=200,
                error_message=f"cursor cycle in {path}: page {number} returned the cursor page "
                f"{asked[page.next_cursor]} was asked with; stopped after {number} pages, the pages read are kept",
                request_id=reply.request_id,
                url=reply.url,
            )
        number += 1
        asked[page.next_cursor] = number
        cursor = page.next_cursor
