"""Turn received objects into table rows: validate, strip NULs, parse the typed columns.

A row that cannot be loaded becomes a `Rejected` with the reason; nothing is dropped silently. Everything here
is plain Python so both dialects load exactly the same values.

`data` is the object's JSON text, written by orjson (compact, UTF-8) in a few microseconds; the standard
library's encoder, which checks what orjson does not (NaN, Infinity), is only needed for objects that were not
decoded from JSON text, and for the odd object orjson cannot write (an integer beyond 64 bits, a lone
surrogate, nesting deeper than orjson's 255 levels).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from rutter_pipeline.rutter.catalog import ColumnType, Endpoint
from rutter_pipeline.rutter.jsonbody_items import UndecodableItem
from rutter_pipeline.rutter.timeutil import TimestampOutOfRange, parse_iso

NUL = "\x00"
REPLACEMENT = "\ufffd"

#: numeric(38, 9) holds at most 29 digits before the decimal point.
_NUMERIC_LIMIT = Decimal(10) ** 29
_FLOAT_LIMIT = float(_NUMERIC_LIMIT)
_BIGINT_MAX = 2**63 - 1

#: Deepest nesting of arrays and objects loaded. Python's own recursion limit (about 1,000 levels, shared with
#: the caller's stack) would otherwise decide, differently from one call site to the next; real objects nest
#: a few levels. (MariaDB's JSON type stops at 32 levels: deeper objects are refused there, and quarantined.)
MAX_NESTING = 500
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


@dataclass(frozen=True)
class Prepared:
    """One loadable row.

    Attributes:
        id: the object's id.
        version: the endpoint's version field, parsed (None when absent or the endpoint has none).
        values: typed column values in `column_names(endpoint)` order (without data and bookkeeping columns).
        data: the object as compact UTF-8 JSON text, NULs replaced.
        sanitized: how many NUL characters were replaced.
        raw: the object as received, kept for the quarantine if the database rejects the row.
    """

    id: str
    version: datetime | None
    values: tuple[Any, ...]
    data: bytes
    sanitized: int
    raw: Any


@dataclass(frozen=True)
class Rejected:
    """A received item that cannot be loaded, and why."""

    object_id: str | None
    reason: str
    raw: Any


def column_names(endpoint: Endpoint) -> tuple[str, ...]:
    """The columns filled from the object's fields, in the order `Prepared.values` holds them."""
    return _plan(endpoint).names


def strip_nuls(value: Any) -> tuple[Any, int]:
    """Replace NUL characters with U+FFFD in every string (keys and values) of a JSON value.

    PostgreSQL text and JSONB cannot hold NUL; the same rule applies on MySQL so both hold the same data.

    Returns:
        The cleaned value (the input itself when it had no NUL) and the number of NULs replaced.
    """
    if isinstance(value, str):
        count = value.count(NUL)
        return (value.replace(NUL, REPLACEMENT), count) if count else (value, 0)
    if isinstance(value, dict):
        total = 0
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            new_key, key_count = strip_nuls(key)
            new_item, item_count = strip_nuls(item)
            cleaned[new_key] = new_item
            total += key_count + item_count
        return (cleaned, total) if total else (value, 0)
    if isinstance(value, list):
        pairs = [strip_nuls(item) for item in value]
        total = sum(count for _, count in pairs)
        return ([item for item, _ in pairs], total) if total else (value, 0)
    return value, 0


def nesting_depth(json_text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (0 for a scalar), without recursion."""
    depth = deepest = 0
    for char in _JSON_STRING.sub("", json_text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _too_deep(json_text: str) -> bool:
    # Counting brackets is cheap and rules out nearly every object before the exact scan.
    return json_text.count("[") + json_text.count("{") > MAX_NESTING and nesting_depth(json_text) > MAX_NESTING


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    # Numbers, booleans and nested values in a text column keep their JSON spelling.
    return json.dumps(value, ensure_ascii=False)


def _numeric(value: Any) -> Decimal:
    # Most money arrives as a float in range: one comparison (false for NaN too) instead of Decimal's checks.
    if type(value) is float and -_FLOAT_LIMIT < value < _FLOAT_LIMIT:
        return Decimal(repr(value))
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"not a number: {value!r}")
    # repr() of a float is its shortest exact spelling: 12.5 stays 12.5, not 12.4999...
    spelling = repr(value) if isinstance(value, float) else value
    try:
        number = Decimal(spelling.strip() if isinstance(spelling, str) else spelling)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite() or abs(number) >= _NUMERIC_LIMIT:
        raise ValueError(f"number out of range for numeric(38,9): {value!r}")
    return number


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    if (
        isinstance(value, int)
        or (isinstance(value, str) and value.strip().lstrip("-").isdigit())
        or (isinstance(value, float) and value.is_integer())
    ):
        number = int(value)
    else:
        raise ValueError(f"not an integer: {value!r}")
    if abs(number) > _BIGINT_MAX:
        raise ValueError(f"integer out of range for bigint: {value!r}")
    return number


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"not a boolean: {value!r}")
    return value


def _timestamp(value: Any) -> datetime:
    try:
        return parse_iso(value)
    except TimestampOutOfRange:
        raise
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None


_PARSERS = {
    ColumnType.TEXT: _text,
    ColumnType.NUMERIC: _numeric,
    ColumnType.TIMESTAMP: _timestamp,
    ColumnType.BOOLEAN: _boolean,
    ColumnType.INTEGER: _integer,
}


@dataclass(frozen=True)
class _Plan:
    names: tuple[str, ...]
    #: (field name, parser) per typed column, in `names` order.
    fields: tuple[tuple[str, Callable[[Any], Any]], ...]
    version_index: int | None


# Keyed by table name: hashing the Endpoint dataclass itself for every row costs more than the row's parsing.
_PLANS: dict[str, _Plan] = {}


def _plan(endpoint: Endpoint) -> _Plan:
    name = endpoint.name
    plan = _PLANS.get(name)
    if plan is None:
        names: tuple[str, ...] = ("id", "platform_id", "created_at", "updated_at")
        types: tuple[ColumnType, ...] = (ColumnType.TEXT, ColumnType.TEXT, ColumnType.TIMESTAMP, ColumnType.TIMESTAMP)
        if endpoint.has_last_synced_at:
            names += ("last_synced_at",)
            types += (ColumnType.TIMESTAMP,)
        names += tuple(c.name for c in endpoint.columns)
        types += tuple(c.type for c in endpoint.columns)
        version_index = names.index(endpoint.version_field) if endpoint.version_field else None
        fields = tuple((column, _PARSERS[type_]) for column, type_ in zip(names, types, strict=True))
        plan = _PLANS[name] = _Plan(names, fields, version_index)
    return plan


def _json_text(value: Any) -> bytes:
    """Compact UTF-8 JSON text of a checked value, by orjson when it can write it (nearly always)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _checked_json(object_id: str, item: dict[str, Any]) -> bytes | Rejected:
    """The object's JSON text, or why it cannot be stored.

    The standard library's encoder refuses NaN and Infinity (which orjson would write as null) and reaches
    deeper than orjson; the text itself is then written by orjson when it can, so an object's text is the same
    whichever path it took.
    """
    too_deep = Rejected(object_id, f"nested deeper than {MAX_NESTING} levels", item)
    try:
        checked = json.dumps(item, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except RecursionError:
        return too_deep
    except (ValueError, TypeError) as error:
        return Rejected(object_id, f"object is not storable JSON: {error}", item)
    if _too_deep(checked):
        return too_deep
    try:
        checked.encode("utf-8")
    except UnicodeEncodeError as error:
        # A "\ud800" escape decodes to a lone surrogate, which no database text type can hold.
        return Rejected(object_id, f"object is not valid Unicode: {error.reason}", item)
    return _json_text(item)


def prepare(endpoint: Endpoint, item: Any, *, decoded: bool = False) -> Prepared | Rejected:
    """Validate one received item and compute its row.

    Args:
        endpoint: the endpoint the item was listed from.
        item: one element of the response list, as decoded from JSON (or an `UndecodableItem`).
        decoded: the item was decoded from JSON text by `rutter.jsonbody.parse_body`, so it holds no NaN or
            Infinity (JSON has no spelling for them) and orjson alone can write its text. False for objects
            made or decoded elsewhere: they take the standard library's stricter encoder.

    Returns:
        The row to load, or the reason it cannot be loaded.
    """
    if isinstance(item, UndecodableItem):
        return Rejected(item.object_id, item.reason, item)
    if not isinstance(item, dict):
        return Rejected(None, f"not a JSON object but {type(item).__name__}", item)
    object_id = item.get("id")
    if not isinstance(object_id, str) or not object_id:
        return Rejected(None, f"missing or non-string id: {object_id!r}", item)
    data: bytes | None = None
    if decoded:
        # What orjson cannot write (an integer beyond 64 bits, a lone surrogate, deep nesting) takes the
        # checked path, which decides.
        with contextlib.suppress(orjson.JSONEncodeError):
            data = orjson.dumps(item)
    if data is None:
        checked = _checked_json(object_id, item)
        if isinstance(checked, Rejected):
            return checked
        data = checked
    cleaned, sanitized = item, 0
    # NUL is spelled \u0000 in JSON text: objects without that text (nearly all) skip the walk.
    if b"\\u0000" in data:
        cleaned, sanitized = strip_nuls(item)
        if sanitized:
            data = _json_text(cleaned)
    plan = _plan(endpoint)
    get = cleaned.get
    values: list[Any] = []
    append = values.append
    name = ""
    try:
        for name, parse in plan.fields:
            value = get(name)
            append(None if value is None else parse(value))
    except ValueError as error:
        return Rejected(object_id, f"field {name!r}: {error}", item)
    version = None if plan.version_index is None else values[plan.version_index]
    return Prepared(cleaned["id"], version, tuple(values), data, sanitized, item)
