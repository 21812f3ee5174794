"""Decode a body item by item when it cannot be decoded whole, so one bad object does not cost its page.

A page is `{"<key>": [item, item, ...], "next_cursor": ..., ...}`. When the whole body does not decode (an item
nested deeper than the parser allows, a bare `NaN`), the body's text is split at the top-level members and at
the items of its lists without parsing them (a scan of brackets and strings, no recursion), and each piece is
decoded on its own. An item that still does not decode becomes an `UndecodableItem` carrying its exact text,
for the loader to quarantine. A body that cannot be split (cut short, not an object) is still refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rutter_pipeline.rutter.jsonbody import parse_body

#: A complete string (escapes included), a lone quote (a string that never ends), or a structural character.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{},:]', re.DOTALL)
_CLOSING = {b"]"[0]: b"["[0], b"}"[0]: b"{"[0]}


@dataclass(frozen=True)
class UndecodableItem:
    """A list item whose JSON cannot be decoded, kept as received.

    Attributes:
        text: the item's exact text (bytes that are not UTF-8 shown as `\\xNN`).
        reason: why it cannot be decoded, e.g. `NaN is not JSON`.
        object_id: the item's top-level `"id"` when it is a string that could be read, else None.
    """

    text: str
    reason: str
    object_id: str | None = None


def _split(raw: bytes, opening: int) -> list[bytes] | None:
    """The pieces between top-level commas of one JSON object or array (`opening` is `{` or `[`).

    Returns None when `raw` is not one complete, bracket-balanced object or array.
    """
    raw = raw.strip()
    if not raw or raw[0] != opening:
        return None
    stack: list[int] = []
    pieces: list[bytes] = []
    start = 1
    for match in _TOKEN.finditer(raw):
        token = match.group()
        char = token[0]
        if char == 0x22:  # a string: nothing inside it counts
            if len(token) == 1:
                return None
            continue
        if char in (0x5B, 0x7B):  # [ {
            stack.append(char)
        elif char in _CLOSING:
            if not stack or stack.pop() != _CLOSING[char]:
                return None
            if not stack:
                if match.end() != len(raw):
                    return None
                last = raw[start : match.start()].strip()
                if last or pieces:
                    pieces.append(last)
                return pieces
        elif char == 0x2C and len(stack) == 1:  # a comma between members or items
            pieces.append(raw[start : match.start()].strip())
            start = match.end()
    return None


def _member(piece: bytes) -> tuple[str, bytes] | None:
    """Split `"key": value` at the first colon after the key."""
    match = _TOKEN.match(piece)
    if match is None or match.group()[0] != 0x22 or len(match.group()) == 1:
        return None
    rest = piece[match.end() :].lstrip()
    if not rest.startswith(b":"):
        return None
    try:
        key = parse_body(match.group())
    except ValueError:
        return None
    return key, rest[1:].strip()


def _top_level_id(item: bytes) -> str | None:
    for piece in _split(item, b"{"[0]) or ():
        member = _member(piece)
        if member is not None and member[0] == "id":
            try:
                value = parse_body(member[1])
            except ValueError:
                return None
            return value if isinstance(value, str) else None
    return None


def _item(raw: bytes) -> Any:
    try:
        return parse_body(raw)
    except ValueError as error:
        text = raw.decode("utf-8", errors="backslashreplace")
        return UndecodableItem(text=text, reason=f"cannot be decoded: {error}", object_id=_top_level_id(raw))


def parse_body_by_item(content: bytes) -> Any:
    """Decode a body, decoding list items one by one if the whole does not decode.

    Returns:
        The decoded body; in a list member that could not be decoded whole, items that do not decode are
        `UndecodableItem`s in their place.

    Raises:
        ValueError: the body is cut short or broken outside its lists' items (the first decode's error).
    """
    try:
        return parse_body(content)
    except ValueError as error:
        whole_error = error
    pieces = _split(content, b"{"[0])
    if pieces is None:
        raise whole_error
    body: dict[str, Any] = {}
    for piece in pieces:
        member = _member(piece)
        if member is None:
            raise whole_error
        key, value = member
        try:
            body[key] = parse_body(value)
            continue
        except ValueError:
            items = _split(value, b"["[0])
        if items is None:
            raise whole_error
        body[key] = [_item(item) for item in items]
    return body
