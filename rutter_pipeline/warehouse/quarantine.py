"""Keep aside what cannot be loaded: `rutter._quarantine` holds the raw payload and the reason."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.rutter.jsonbody_items import UndecodableItem
from rutter_pipeline.warehouse.dialect import stored_time
from rutter_pipeline.warehouse.rows import Rejected
from rutter_pipeline.warehouse.tables import quarantine

#: Longest reason stored; database error texts can quote a whole row.
_MAX_REASON = 2000


def payload_text(raw: Any) -> str:
    """The received item as JSON text that any text column can hold.

    ASCII escapes keep NULs and lone surrogates as `\\u0000`/`\\ud800` text, so the payload survives exactly;
    values JSON cannot express (NaN) are spelled as Python would. An item that could not be decoded is kept as
    the text received.
    """
    if isinstance(raw, UndecodableItem):
        return storable_text(raw.text)
    try:
        return json.dumps(raw, ensure_ascii=True, default=repr)
    except RecursionError:
        return _dumps_without_recursion(raw)


class _Written(str):
    """Text already encoded, on the stack of `_dumps_without_recursion`."""


def _dumps_without_recursion(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=True, default=repr)` for values nested too deeply to recurse into."""
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Written):
            out.append(item)
        elif isinstance(item, dict):
            parts: list[Any] = [_Written("{")]
            for index, (key, member) in enumerate(item.items()):
                separator = ", " if index else ""
                parts += [_Written(separator + json.dumps(str(key), ensure_ascii=True) + ": "), member]
            stack.extend(reversed([*parts, _Written("}")]))
        elif isinstance(item, list):
            parts = [_Written("[")]
            for index, member in enumerate(item):
                parts += [_Written(", ")] if index else []
                parts.append(member)
            stack.extend(reversed([*parts, _Written("]")]))
        else:
            out.append(json.dumps(item, ensure_ascii=True, default=repr))
    return "".join(out)


def storable_text(text: str) -> str:
    """A string any database text column accepts: NULs → U+FFFD, lone surrogates → `\\udXXX` escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\ufffd")


def _as_rejected(reject: Rejected | tuple[Any, str]) -> Rejected:
    if isinstance(reject, Rejected):
        return reject
    raw, reason = reject
    if isinstance(raw, UndecodableItem):
        return Rejected(raw.object_id, f"{reason}: {raw.reason}", raw)
    object_id = raw.get("id") if isinstance(raw, dict) else None
    return Rejected(object_id if isinstance(object_id, str) else None, str(reason), raw)


def quarantine_rows(
    conn: sa.Connection,
    *,
    endpoint: Endpoint | str,
    connection_id: str,
    rejects: Sequence[Rejected | tuple[Any, str]],
) -> int:
    """Store rejected items in `_quarantine`, in the caller's transaction.

    Args:
        conn: a connection inside the caller's transaction.
        endpoint: the endpoint the items came from, or a name for items that belong to none (`events`).
        connection_id: the Rutter connection they belong to.
        rejects: what could not be loaded: `Rejected` records, or `(payload, reason)` pairs whose object id is
            taken from the payload's `id` when it is a string.

    Returns:
        The number of rows written.
    """
    if not rejects:
        return 0
    endpoint_name = endpoint if isinstance(endpoint, str) else endpoint.name
    records = [_as_rejected(reject) for reject in rejects]
    now = stored_time(conn, datetime.now(UTC))
    conn.execute(
        quarantine.insert(),
        [
            {
                "endpoint": endpoint_name,
                "connection_id": connection_id,
                "object_id": None if reject.object_id is None else storable_text(reject.object_id),
                "reason": storable_text(reject.reason[:_MAX_REASON]),
                "payload": payload_text(reject.raw),
                "received_at": now,
            }
            for reject in records
        ],
    )
    return len(rejects)
