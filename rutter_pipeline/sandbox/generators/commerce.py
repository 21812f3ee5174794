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


_SUBSCRIPTION_STATUSES = ("active",) * 6 + ("in_trial", "paused", "canceled", "canceled")
_GROUPS = ("Wholesale", "VIP", "Newsletter", "Returning", "Staff", "Trade", "Europe", "Subscribers")


def shape_subscription(subscription: dict[str, Any], ctx: Context, links: Links) -> None:
    """A recurring plan of a customer of the same connection: monthly or yearly items in its currency."""
    subscription.update(
        platform_customer_id=links.pick("/customers"),
        iso_currency_code=ctx.currency,
        status=ctx.rng.choice(_SUBSCRIPTION_STATUSES),
    )
    for item in subscription.get("items") or []:
        quantity = float(ctx.rng.randint(1, 3))
        unit = round(ctx.rng.choice((9.0, 19.0, 29.0, 49.0, 99.0)) - 0.01, 2)
        item.update(
            interval=ctx.rng.choice(("month", "month", "year")),
            interval_count=1.0,
            quantity=quantity,
            unit_amount=unit,
            amount=round(unit * quantity, 2),
        )


def shape_customer_group(group: dict[str, Any], ctx: Context, links: Links) -> None:
    """A named segment of customers (names repeat past the eighth group)."""
    group["name"] = _GROUPS[int(group["platform_id"]) % len(_GROUPS)]


SHAPERS = {
    "/transactions": shape_transaction,
    "/customers": shape_customer,
    "/subscriptions": shape_subscription,
    "/customer_groups": shape_customer_group,
}
