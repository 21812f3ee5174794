"""Shaping of commerce objects other than orders: references to objects of the same connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rutter_pipeline.sandbox import text
from rutter_pipeline.sandbox.generators.schema import Context

if TYPE_CHECKING:
    from rutter_pipeline.sandbox.generators import Links


def shape_transaction(transaction: dict[str, Any], ctx: Context, links: Links) -> None:
    """A transaction belongs to an order of the same connection."""
    transaction["order_id"] = links.pick("/orders")
    transaction["iso_currency_code"] = ctx.currency


def shape_customer(customer: dict[str, Any], ctx: Context, links: Links) -> None:
    """A customer with a unicode name and orders of the same connection."""
    first, last = text.person(ctx.rng)
    customer.update(first_name=first, last_name=last)
    customer["orders"] = [{"id": links.pick("/orders")} for _ in customer.get("orders", [])]


SHAPERS = {"/transactions": shape_transaction, "/customers": shape_customer}
