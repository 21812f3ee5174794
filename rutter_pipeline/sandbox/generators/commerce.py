"""Shaping of commerce objects: orders that add up and point at real customers, products and transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rutter_pipeline.sandbox import text
from rutter_pipeline.sandbox.generators.schema import Context

if TYPE_CHECKING:
    from rutter_pipeline.sandbox.generators import Links


def shape_order(order: dict[str, Any], ctx: Context, links: Links) -> None:
    """Line items priced from products, totals that add up, a linked customer, refunds with string amounts."""
    rng = ctx.rng
    lines = order["line_items"]
    for n, line in enumerate(lines):
        line["product_id"] = links.pick("/products")
        line["quantity"] = rng.randint(1, 4)
        line["price"] = round(rng.uniform(4, 250), 2)
        line["title"] = rng.choice(text.PRODUCTS)
        line["iso_currency_code"] = ctx.currency
        line["id"] = ctx.child_id(f"line-{n}")
    items_total = round(sum(line["price"] * line["quantity"] for line in lines), 2)
    tax = round(items_total * 0.08, 2)
    shipping = 0.0 if items_total > 100 else 7.5
    discount = round(items_total * 0.1, 2) if rng.random() < 0.2 else 0.0
    order.update(
        iso_currency_code=ctx.currency,
        total_line_items_price=items_total,
        total_tax=tax,
        total_shipping=shipping,
        total_discount=discount,
        total_price=round(items_total + tax + shipping - discount, 2),
        order_number=f"#{order.get('platform_id', '')}",
    )
    customer = order.get("customer")
    if customer is not None:
        customer["id"] = links.pick("/customers")
    paid = order["payment_status"] == "refunded"
    order["refunds"] = [
        {"line_items": [{"line_item_id": lines[0]["id"], "quantity": 1, "status": "completed",
                         "amount": f"{lines[0]['price']:.2f}"}]}
    ] if paid else []
    for transaction in order.get("transactions", []):
        transaction["order_id"] = order["id"]
        transaction["iso_currency_code"] = ctx.currency
    if rng.random() < 0.02 and order["billing_address"] is not None:
        order["billing_address"]["address2"] = text.NUL_TEXT


def shape_transaction(transaction: dict[str, Any], ctx: Context, links: Links) -> None:
    """A transaction belongs to an order of the same connection."""
    transaction["order_id"] = links.pick("/orders")
    transaction["iso_currency_code"] = ctx.currency


def shape_customer(customer: dict[str, Any], ctx: Context, links: Links) -> None:
    """A customer with a unicode name and orders of the same connection."""
    first, last = text.person(ctx.rng)
    customer.update(first_name=first, last_name=last)
    customer["orders"] = [{"id": links.pick("/orders")} for _ in customer.get("orders", [])]


SHAPERS = {"/orders": shape_order, "/transactions": shape_transaction, "/customers": shape_customer}
