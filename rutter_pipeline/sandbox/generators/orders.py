"""Commerce orders, written out by hand rather than walked from the catalog: a million-order store is served
at tens of thousands of orders per second only if one order costs a few dozen microseconds.

The shape is the catalog's `Order` (every required field, the common optional ones); the spec validation tests
check it like every other endpoint.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rutter_pipeline.sandbox.isotime import iso_ms
from rutter_pipeline.sandbox import text

if TYPE_CHECKING:
    from rutter_pipeline.sandbox.generators import Links

_PAYMENT = ("paid",) * 14 + ("pending", "refunded", "failed", "unknown")
_FULFILLMENT = ("fulfilled",) * 10 + ("unfulfilled", "partial", "unknown", None)
_STATUS = ("active",) * 12 + ("archived", "cancelled")
_CARRIERS = (("UPS", "Ground"), ("DHL", "Express"), ("USPS", "Priority"), ("La Poste", "Colissimo"))
_SOURCES = ("web", "pos", "shopify_draft_order", "iphone")


def _address(rng: random.Random, first: str, last: str) -> dict[str, Any]:
    return {
        "address1": f"{rng.randint(1, 999)} {rng.choice(text.LAST_NAMES)} Street", "address2": "",
        "city": rng.choice(text.CITIES), "country_code": "US", "first_name": first, "last_name": last,
        "postal_code": str(rng.randint(10000, 99999)), "region": "CA", "phone": None,
    }


def render_order(
    *, order_id: str, seq: int, created_ms: int, currency: str, rng: random.Random, links: Links
) -> dict[str, Any]:
    """One order: line items priced from products, totals that add up, customer, fulfillment, refunds."""
    created = iso_ms(created_ms)
    stem = order_id[:24]  # child ids share the order's unique prefix
    first, last = text.person(rng)
    lines = []
    for n in range(rng.randint(1, 3)):
        price = round(rng.uniform(4, 250), 2)
        lines.append({
            "id": f"{stem}{n:012x}", "platform_id": str(seq * 10 + n), "product_id": links.pick("/products"),
            "variant_id": None, "price": price, "quantity": rng.randint(1, 4), "iso_currency_code": currency,
            "sku": f"SKU-{rng.randint(100, 999)}", "title": rng.choice(text.PRODUCTS),
            "unit_cost": round(price * 0.4, 2), "created_at": created, "updated_at": created,
        })
    items_total = round(sum(line["price"] * line["quantity"] for line in lines), 2)
    tax = round(items_total * 0.08, 2)
    shipping = 0.0 if items_total > 100 else 7.5
    discount = round(items_total * 0.1, 2) if rng.random() < 0.2 else 0.0
    payment_status = rng.choice(_PAYMENT)
    status = rng.choice(_STATUS)
    fulfillment = rng.choice(_FULFILLMENT)
    carrier, service = rng.choice(_CARRIERS)
    billing = _address(rng, first, last)
    if rng.random() < 0.02:
        billing["address2"] = text.NUL_TEXT
    order: dict[str, Any] = {
        "id": order_id, "platform_id": str(1000 + seq), "payment_status": payment_status, "status": status,
        "total_discount": discount, "total_price": round(items_total + tax + shipping - discount, 2),
        "fulfillment_status": fulfillment, "iso_currency_code": currency, "name": f"#{1000 + seq}",
        "order_number": str(1000 + seq), "source_name": rng.choice(_SOURCES), "total_line_items_price": items_total,
        "total_shipping": shipping, "total_shipping_discount": 0.0, "total_tax": tax,
        "tags": ["wholesale"] if rng.random() < 0.1 else [], "billing_address": billing,
        "refunds": [], "shipping_address": billing if rng.random() < 0.8 else _address(rng, first, last),
        "customer": {
            "id": links.pick("/customers"), "platform_id": str(rng.randint(10_000, 99_999)), "email": text.email(rng),
            "first_name": first, "last_name": last, "phone": None, "created_at": created, "updated_at": created,
        },
        "line_items": lines,
        "fulfillments": [] if fulfillment in ("unfulfilled", None) else [{
            "id": f"{stem}f{0:011x}", "order_id": order_id, "carrier": carrier, "service": service,
            "tracking_number": f"1Z{rng.randint(10**9, 10**10 - 1)}", "tracking_url": None,
            "line_items": [{"id": line["id"], "product_id": line["product_id"], "variant_id": None,
                            "price": line["price"], "quantity": line["quantity"], "sku": line["sku"],
                            "title": line["title"]} for line in lines],
        }],
    }
    if status == "cancelled":
        order["cancelled_at"] = created
    if payment_status == "refunded":
        first_line = lines[0]
        order["refunds"] = [{"line_items": [{"line_item_id": first_line["id"], "quantity": 1, "status": "completed",
                                             "amount": f"{first_line['price']:.2f}"}]}]
    return order
