"""Parsing of list query parameters: millisecond bounds, `sort`, and the accounting `filter` expression.

Timestamp conditions become index bounds (exact, inclusive where the API says so); conditions on other
top-level fields are checked on the rendered object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rutter_pipeline.rutter.timeutil import iso_to_ms
from rutter_pipeline.sandbox.errors import bad_request
from rutter_pipeline.sandbox.store import SORT_COLUMNS, Bound

_CLAUSE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|=|>|<|~)\s*"((?:[^"\\]|\\.)*)"\s*$')
_SORT = re.compile(r"^\s*([a-z_]+)\s+(ASC|DESC)\s*$")
_MS_PARAMS = {
    "created_at_min": ("created_ms", ">="),
    "created_at_max": ("created_ms", "<="),
    "updated_at_min": ("updated_ms", ">="),
    "updated_at_max": ("updated_ms", "<="),
    "last_synced_at_min": ("synced_ms", ">="),
}
_SCALAR_TYPES = ("string", "number", "integer", "boolean")

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Criteria:
    """What a list request asks for: index bounds, order, and checks on the rendered objects."""

    bounds: list[Bound] = field(default_factory=list)
    sort_column: str = "updated_ms"
    descending: bool = True
    predicates: list[Predicate] = field(default_factory=list)


def parse_ms(name: str, raw: str) -> int:
    """A Unix-milliseconds query parameter; a 400 when it is not an integer."""
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be Unix milliseconds (an integer), got {raw!r}") from None


def ms_bounds(query: dict[str, str], allowed: frozenset[str]) -> list[Bound]:
    """Index bounds from `*_min`/`*_max` millisecond parameters the endpoint accepts."""
    bounds = []
    for name, (column, op) in _MS_PARAMS.items():
        if name in query and name in allowed:
            bounds.append(Bound(column, op, parse_ms(name, query[name])))
    return bounds


def parse_sort(raw: str) -> tuple[str, bool]:
    """`"<timestamp field> ASC|DESC"` → (index column, descending); a 400 otherwise."""
    match = _SORT.match(raw)
    if not match or match.group(1) not in SORT_COLUMNS:
        raise bad_request(
            f"unsupported sort {raw!r}; use '<field> ASC|DESC' with field one of {', '.join(SORT_COLUMNS)}"
        )
    return SORT_COLUMNS[match.group(1)], match.group(2) == "DESC"


def parse_filter(raw: str, fields: dict[str, dict[str, Any]]) -> tuple[list[Bound], list[Predicate]]:
    """The accounting `filter`: clauses `field OP "value"` joined with ` AND `.

    OP is `=`, `>`, `<`, `>=`, `<=` or `~` (contains). Timestamp fields compare as instants; other top-level
    scalar fields compare as text (numbers as their JSON text). Unknown fields and bad syntax give a 400.
    """
    bounds: list[Bound] = []
    predicates: list[Predicate] = []
    for clause in raw.split(" AND "):
        match = _CLAUSE.match(clause)
        if not match:
            raise bad_request(f'unsupported filter clause {clause!r}; expected field="value", >, <, >=, <= or ~')
        name, op, value = match.group(1), match.group(2), match.group(3).replace('\\"', '"')
        if name in SORT_COLUMNS and name in fields:
            bounds.append(_timestamp_bound(name, op, value))
        elif name in fields and fields[name].get("type", "").split("|")[0] in _SCALAR_TYPES:
            predicates.append(_field_predicate(name, op, value))
        else:
            raise bad_request(f"filter on unsupported field {name!r}")
    return bounds, predicates


def _timestamp_bound(name: str, op: str, value: str) -> Bound:
    if op == "~":
        raise bad_request(f"operator ~ is not supported on timestamp field {name!r}")
    try:
        ms = iso_to_ms(value)
    except ValueError:
        raise bad_request(f"filter value for {name!r} must be an ISO 8601 timestamp, got {value!r}") from None
    return Bound(SORT_COLUMNS[name], op, ms)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_predicate(name: str, op: str, value: str) -> Predicate:
    compare: dict[str, Callable[[str], bool]] = {
        "=": lambda got: got == value,
        "~": lambda got: value in got,
        ">": lambda got: got > value,
        "<": lambda got: got < value,
        ">=": lambda got: got >= value,
        "<=": lambda got: got <= value,
    }
    check = compare[op]

    def predicate(obj: dict[str, Any]) -> bool:
        got = _as_text(obj.get(name))
        return got is not None and check(got)

    return predicate


def equality_predicates(query: dict[str, str], names: frozenset[str]) -> list[Predicate]:
    """Commerce filters such as `payment_status=paid`: exact matches on top-level fields."""
    return [_field_predicate(name, "=", query[name]) for name in sorted(names) if name in query]
