"""Cursor pagination: follow `next_cursor` page by page, holding one page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rutter_pipeline.rutter.errors import ResponseError
from rutter_pipeline.rutter.transport import Reply, Transport


@dataclass(frozen=True)
class Page:
    """One page of objects as the API returned it (after window trimming, if any).

    Attributes:
        objects: the objects, unchanged JSON.
        next_cursor: the cursor of the following page, None on the last page.
        request_id: `X-Rutter-Request-ID` of the response.
    """

    objects: list[dict[str, Any]]
    next_cursor: str | None
    request_id: str | None


def _fail(reply: Reply, message: str) -> ResponseError:
    return ResponseError(status=200, error_message=message, request_id=reply.request_id, url=reply.url)


def parse_page(reply: Reply, *, response_key: str) -> Page:
    """Validate a list body `{"<response_key>": [{...}, ...], "next_cursor": ...}` and make a Page.

    Raises:
        ResponseError: the body is not an object, the key is missing or not a list of objects, or the
            cursor is not a string or null.
    """
    body = reply.body
    if not isinstance(body, dict):
        raise _fail(reply, f"body is {type(body).__name__}, expected an object with {response_key!r}")
    objects = body.get(response_key)
    if not isinstance(objects, list):
        got = "missing" if response_key not in body else type(objects).__name__
        raise _fail(reply, f"{response_key!r} is {got}, expected a list of objects")
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise _fail(reply, f"{response_key}[{index}] is {type(obj).__name__}, expected an object")
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
        ResponseError: a body without the documented shape, or a cursor that does not advance.
    """
    cursor: str | None = None
    while True:
        query = {**params, "limit": page_size, "cursor": cursor}
        reply = transport.get(path, query, access_token=access_token)
        page = parse_page(reply, response_key=response_key)
        if page.next_cursor is not None and page.next_cursor == cursor:
            raise _fail(reply, f"next_cursor did not advance ({cursor!r} returned again); stopping to avoid a loop")
        transport.stats.add(pages=1)
        yield page
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
