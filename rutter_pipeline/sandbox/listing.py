"""One page of a list endpoint: query → criteria → keyset scan of the index → rendered objects + next cursor."""

from __future__ import annotations

from typing import Any, cast

from rutter_pipeline.sandbox import generators
from rutter_pipeline.sandbox.cursor import decode_cursor, encode_cursor
from rutter_pipeline.sandbox.errors import bad_request
from rutter_pipeline.sandbox.filters import (
    Criteria,
    equality_predicates,
    ms_bounds,
    parse_filter,
    parse_ms,
    parse_sort,
)
from rutter_pipeline.sandbox.model import SandboxConnection
from rutter_pipeline.sandbox.spec import endpoint_specs
from rutter_pipeline.sandbox.store import Bound, Store

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
#: Query parameters that shape the listing itself (kept in the cursor); others are transport or ignored.
_LISTING_PARAMS = frozenset(
    {"created_at_min", "created_at_max", "updated_at_min", "updated_at_max", "last_synced_at_min", "sort", "filter"}
)
_EQUALITY_PARAMS = frozenset(
    {
        "payment_status",
        "fulfillment_status",
        "status",
        "email",
        "phone",
        "name",
        "account_type",
        "document_number",
        "order_number",
    }
)


def parse_limit(raw: str | None, *, default: int = DEFAULT_LIMIT) -> int:
    """The page size: `default` when absent, 1..500 otherwise (a 400 outside)."""
    if raw is None:
        return default
    limit = parse_ms("limit", raw)
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def restart_cursor(query: dict[str, str]) -> str:
    """A cursor pointing to the first page of the listing `query` belongs to (the `cursor_cycle` fault)."""
    listing_query = (
        decode_cursor(query["cursor"])[0]
        if query.get("cursor")
        else {k: v for k, v in query.items() if k in _LISTING_PARAMS}
    )
    return encode_cursor(listing_query, [])


def is_restart_cursor(cursor: str) -> bool:
    """Whether a cursor is one `restart_cursor` made."""
    return decode_cursor(cursor)[1] == []


def _criteria(path: str, query: dict[str, str]) -> Criteria:
    spec = endpoint_specs()[path]
    accepted = frozenset(spec["query_params"])
    criteria = Criteria(bounds=ms_bounds(query, accepted))
    if "sort" in query and "sort" in accepted:
        criteria.sort_column, criteria.descending = parse_sort(query["sort"])
    if "filter" in query and "filter" in accepted:
        bounds, predicates = parse_filter(query["filter"], spec["fields"])
        criteria.bounds += bounds
        criteria.predicates += predicates
    criteria.predicates += equality_predicates(query, _EQUALITY_PARAMS & accepted)
    if spec["family"] == "commerce":
        # A commerce object is never updated before it was created, so the start of a created_at window
        # also bounds updated_at: the scan in updated_at order stops at the window instead of the store's end.
        criteria.bounds += [
            Bound("updated_ms", ">=", b.value)
            for b in criteria.bounds
            if b.column == "created_ms" and b.op in (">=", ">")
        ]
    return criteria


def list_page(
    *, store: Store, conn: SandboxConnection, path: str, ep: int, query: dict[str, str], anchor_ms: int
) -> dict[str, Any]:
    """The response body of one list request (objects, `next_cursor`, `connection`).

    Generated orders of an unfiltered listing come as `orjson.Fragment` (encoded JSON), other objects as dicts.
    """
    limit = parse_limit(query.get("limit"))
    after: tuple[int, int] | None = None
    if query.get("cursor"):
        listing_query, position = decode_cursor(query["cursor"])
        if len(position) not in (0, 2):
            raise bad_request("cursor does not belong to this endpoint", "INVALID_CURSOR")
        if position:
            after = (position[0], position[1])
    else:
        listing_query = {k: v for k, v in query.items() if k in _LISTING_PARAMS}
    criteria = _criteria(path, listing_query)
    objects: list[Any] = []
    last: tuple[int, int] | None = None
    more = False
    chunk = limit + 1 if not criteria.predicates else max(limit + 1, 200)
    # Without predicates to check, objects may stay encoded JSON: the server sends them as they are.
    render = generators.renderer(conn, path, anchor_ms=anchor_ms, encoded=not criteria.predicates)
    while not more:
        rows = store.page(
            conn=conn.index,
            ep=ep,
            sort_column=criteria.sort_column,
            descending=criteria.descending,
            bounds=criteria.bounds,
            after=after,
            limit=chunk,
        )
        for row in rows:
            if len(objects) == limit:
                more = True
                break
            after = (store.sort_value(row, criteria.sort_column), row.seq)
            body = render(row)
            # With predicates to check, the renderer was asked for dicts (`encoded=False`), never fragments.
            if not criteria.predicates or all(check(cast(dict[str, Any], body)) for check in criteria.predicates):
                objects.append(body)
                last = after
        if len(rows) < chunk:
            break
    if more and last is not None:
        next_cursor: str | None = encode_cursor(listing_query, list(last))
    else:
        next_cursor = None
    key = endpoint_specs()[path]["response_key"]
    return {key: objects, "next_cursor": next_cursor, "connection": conn.envelope()}
