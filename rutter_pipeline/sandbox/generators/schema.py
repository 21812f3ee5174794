"""Objects that satisfy the field catalog: every field present with the documented type, enum and nullability.

Field specs are compiled once per endpoint into small value functions, so rendering an object is a walk over
closures driven by one seeded `random.Random`. Endpoint-specific shaping (links between objects, totals that
add up) is layered on top by the family generators.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rutter_pipeline.sandbox import text
from rutter_pipeline.sandbox.ids import stable_uuid
from rutter_pipeline.sandbox.isotime import iso_ms
from rutter_pipeline.sandbox.spec import shared_enum

_DAY_MS = 86_400_000


@dataclass
class Context:
    """What value functions may read while one object is rendered."""

    rng: random.Random
    base_ms: int  # the object's creation time; other dates are placed around it
    currency: str
    key: str  # unique per object: nested ids are derived from it

    def child_id(self, label: str) -> str:
        """A UUID unique to this object and label (nested line items, addresses...)."""
        return stable_uuid(self.key, label, self.rng.random())


ValueFn = Callable[[Context], Any]

_DATE_SUFFIXES = ("_at", "_date", "date")
_NAME_FIELDS = {
    "name",
    "title",
    "customer_name",
    "vendor_name",
    "display_name",
    "legal_name",
    "contact_name",
    "first_name",
    "last_name",
    "company_name",
    "description",
    "memo",
    "note",
    "internal_memo",
}


def compile_object(fields: dict[str, dict[str, Any]], *, depth: int = 0) -> Callable[[Context], dict[str, Any]]:
    """Compile a catalog `fields` mapping into a function rendering one object."""
    plan = [(name, _compile_field(name, spec, depth=depth)) for name, spec in fields.items() if _wanted(spec)]

    def render(ctx: Context) -> dict[str, Any]:
        return {name: fn(ctx) for name, fn in plan}

    return render


def _wanted(spec: dict[str, Any]) -> bool:
    # Optional union-typed and self-referencing fields add nothing a loader needs to be exercised with.
    return spec.get("required", False) or not (spec.get("one_of") or spec.get("recursive"))


def _compile_field(name: str, spec: dict[str, Any], *, depth: int) -> ValueFn:
    value = _compile_value(name, spec, depth=depth)
    if spec.get("nullable") and not name.endswith("id") and name not in ("created_at", "updated_at"):

        def maybe_null(ctx: Context) -> Any:
            return None if ctx.rng.random() < 0.05 else value(ctx)

        return maybe_null
    return value


def _compile_value(name: str, spec: dict[str, Any], *, depth: int) -> ValueFn:
    kind = spec.get("type", "string").split("|")[0]
    if spec.get("recursive") or kind in ("null", "any"):
        return _constant([] if kind == "array" else None)
    if kind == "object":
        if not spec.get("fields"):
            return lambda ctx: {}
        return compile_object(spec["fields"], depth=depth + 1)
    if kind == "array":
        return _compile_array(name, spec, depth=depth)
    if kind == "boolean":
        return lambda ctx: ctx.rng.random() < 0.5
    if kind in ("number", "integer"):
        return _compile_number(name, spec, integer=kind == "integer")
    return _compile_string(name, spec)


def _constant(value: Any) -> ValueFn:
    return lambda ctx: value


def _compile_array(name: str, spec: dict[str, Any], *, depth: int) -> ValueFn:
    items = spec.get("items") or {"type": "string"}
    if depth >= 2 or items.get("recursive"):
        return _constant([])
    item = _compile_value(name.rstrip("s"), items, depth=depth + 1)
    most = 3 if items.get("type") == "object" else 2

    def render(ctx: Context) -> list[Any]:
        return [item(ctx) for _ in range(ctx.rng.randint(1, most))]

    return render


def _compile_number(name: str, spec: dict[str, Any], *, integer: bool) -> ValueFn:
    if spec.get("enum"):
        choices = spec["enum"]
        return lambda ctx: ctx.rng.choice(choices)
    if integer:
        return lambda ctx: ctx.rng.randint(1, 60)
    if spec.get("money"):
        return lambda ctx: round(ctx.rng.uniform(5, 900), 2)
    if "rate" in name or "percent" in name:
        return lambda ctx: round(ctx.rng.uniform(0, 0.25), 4)
    return lambda ctx: float(ctx.rng.randint(1, 20))


def _compile_string(name: str, spec: dict[str, Any]) -> ValueFn:
    if spec.get("enum"):
        return _enum_value(spec["enum"])
    if spec.get("enum_ref"):
        values = shared_enum(spec["enum_ref"])
        if spec["enum_ref"] == "iso_4217_currency_code":
            return lambda ctx: ctx.currency
        return lambda ctx: values[0]
    if spec.get("money_as_string"):
        return lambda ctx: f"{ctx.rng.uniform(5, 900):.2f}"
    if spec.get("numeric_as_string"):
        return lambda ctx: f"{ctx.rng.uniform(0, 10):.2f}"
    if name == "id" or name.endswith("_id") or spec.get("format") == "uuid":
        return lambda ctx: ctx.child_id(name)
    if spec.get("format") == "iso8601" or name.endswith(_DATE_SUFFIXES):
        return lambda ctx: iso_ms(ctx.base_ms + ctx.rng.randint(0, 30) * _DAY_MS)
    return _text_value(name)


def _enum_value(values: list[str]) -> ValueFn:
    return lambda ctx: ctx.rng.choice(values)


def _text_value(name: str) -> ValueFn:
    if "email" in name:
        return lambda ctx: text.email(ctx.rng)
    if "phone" in name:
        return lambda ctx: text.phone(ctx.rng)
    if "url" in name:
        return lambda ctx: f"https://platform.example.com/{ctx.child_id(name)}"
    if name in ("currency", "currency_code", "iso_currency_code", "base_currency"):
        return lambda ctx: ctx.currency
    if "country" in name:
        return lambda ctx: "US"
    if name in _NAME_FIELDS or "name" in name:
        return lambda ctx: text.person_or_company(ctx.rng)
    if name.startswith("address") or name in ("city", "region", "postal_code"):
        return lambda ctx: text.address_part(name, ctx.rng)
    if name in ("platform_id", "number", "reference") or name.endswith("_number") or name.endswith("code"):
        return lambda ctx: str(ctx.rng.randint(1000, 999_999))
    return lambda ctx: text.word(ctx.rng)
