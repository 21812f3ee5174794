"""Opaque keyset cursors: the query a listing was started with plus the position of its last object.

Carrying the query inside the cursor means a page is defined by the cursor alone, and a position (sort value,
sequence number) rather than an offset keeps pagination exact while objects are added, changed or deleted.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from rutter_pipeline.sandbox.errors import bad_request


def encode_cursor(query: dict[str, Any], position: list[int]) -> str:
    """Encode a query and a keyset position into an opaque URL-safe string."""
    return base64.urlsafe_b64encode(orjson.dumps({"q": query, "p": position})).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dict[str, Any], list[int]]:
    """Decode a cursor from `encode_cursor`; a 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = orjson.loads(raw)
        query, position = decoded["q"], decoded["p"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise bad_request("cursor is not a cursor this API returned", "INVALID_CURSOR") from exc
    if not isinstance(query, dict) or not isinstance(position, list) or not all(isinstance(v, int) for v in position):
        raise bad_request("cursor is not a cursor this API returned", "INVALID_CURSOR")
    return query, position
