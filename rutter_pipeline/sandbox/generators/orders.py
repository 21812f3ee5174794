"""Commerce orders, written out by hand rather than walked from the catalog: a million-order store is served
at tens of thousands of orders per second only if one order costs a few microseconds.

What makes it cheap: everything that does not vary per order (a connection's products, customers and their
addresses) is built once per connection as `OrderTemplates`; an order draws two 64-bit words from its
sequence number and reads every choice off them as mixed-radix digits, instead of seeding a random generator.

The shape is the catalog's `Order` (every required field, the common optional ones); the spec validation tests
check it like every other endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rutter_pipeline.sandbox import text
from rutter_pipeline.sandbox.ids import mix64, stable_int
from rutter_pipeline.sandbox.isotime import iso_ms

_PAYMENT = ("paid",) * 14 + ("pending", "refunded", "failed", "unknown")
_FULFILLMENT = ("fulfilled",) * 10 + ("unfulfilled", "partial", "unknown", None)
_STATUS = ("active",) * 12 + ("archived", "cancelled")
_CARRIERS = (("UPS", "Ground"), ("DHL", "Express"), ("USPS", "Priority"), ("La Poste", "Colissimo"))
_SOURCES = ("web", "pos", "shopify_draft_order", "iphone")
#: References go to the first few thousand products and customers: templates stay small for any store.
MAX_TEMPLATES = 4096


@dataclass(frozen=True)
class Product:
    """What an order line copies from a product."""

    id: str | None
    title: str
    sku: str
    price_cents: int
    price: float
    unit_cost: float


@dataclass(frozen=True)
class Buyer:
    """What an order copies from a customer: the customer object and two postal addresses."""

    customer: dict[str, Any]
    address: dict[str, Any]
    other_address: dict[str, Any]


@dataclass(frozen=True)
class OrderTemplates:
    """The per-connection constants orders are assembled from."""

    key: int
    currency: str
    products: tuple[Product, ...]
    buyers: tuple[Buyer, ...]


def _draw(key: int, n: int) -> int:
    return mix64(key ^ n * 0x9E3779B97F4A7C15)


def _product(key: int, n: int, product_id: str | None) -> Product:
    x = _draw(key, n)
    x, title = divmod(x, len(text.PRODUCTS))
    x, sku = divmod(x, 900)
    cents = 400 + x % 24_600
    return Product(id=product_id, title=text.PRODUCTS[title], sku=f"SKU-{100 + sku}", price_cents=cents,
                   price=cents / 100, unit_cost=round(cents * 0.004, 2))


def _address(x: int, first: str, last: str) -> dict[str, Any]:
    x, number = divmod(x, 999)
    x, street = divmod(x, len(text.LAST_NAMES))
    x, city = divmod(x, len(text.CITIES))
    return {
        "address1": f"{number + 1} {text.LAST_NAMES[street]} Street", "address2": "", "city": text.CITIES[city],
        "country_code": "US", "first_name": first, "last_name": last, "postal_code": str(10_000 + x % 90_000),
        "region": "CA", "phone": None,
    }


def _buyer(key: int, n: int, customer_id: str | None) -> Buyer:
    x = _draw(key, n)
    x, first = divmod(x, len(text.FIRST_NAMES))
    x, last = divmod(x, len(text.LAST_NAMES))
    x, user = divmod(x, len(text.WORDS) ** 2)
    x, number = divmod(x, 9999)
    first_name, last_name = text.FIRST_NAMES[first], text.LAST_NAMES[last]
    customer = {
        "id": customer_id, "platform_id": str(10_000 + x % 90_000), "phone": None,
        "email": f"{text.WORDS[user // len(text.WORDS)]}.{text.WORDS[user % len(text.WORDS)]}{number + 1}@example.com",
        "first_name": first_name, "last_name": last_name,
    }
    return Buyer(customer=customer, address=_address(_draw(key, ~n), first_name, last_name),
                 other_address=_address(_draw(key, n << 32 | 1), first_name, last_name))


def build_templates(*, seed: int, conn_id: str, currency: str, product_ids: Sequence[str | None],
                    customer_ids: Sequence[str | None]) -> OrderTemplates:
    """Templates of one connection.

    Args:
        seed: the sandbox seed.
        conn_id: the connection id.
        currency: the connection's currency.
        product_ids: ids orders may refer to (`[None]` when the connection has no products).
        customer_ids: ids of the customers orders may belong to (`[None]` when it has none).
    """
    key = stable_int(seed, conn_id, "/orders", "templates")
    products = tuple(_product(key, n, pid) for n, pid in enumerate(product_ids))
    buyers = tuple(_buyer(key + 1, n, cid) for n, cid in enumerate(customer_ids))
    return OrderTemplates(key=key, currency=currency, products=products, buyers=buyers)


def render_order(t: OrderTemplates, *, seq: int, order_id: str, created_ms: int, updated_ms: int) -> dict[str, Any]:
    """One order: line items priced from products, totals that add up, customer, fulfillment, refunds."""
    created = iso_ms(created_ms)
    stem = order_id[:24]  # child ids share the order's unique prefix
    currency = t.currency
    products = t.products
    x = _draw(t.key, seq)
    x, line_count = divmod(x, 3)
    lines, shipped = [], []
    items_cents = 0
    for n in range(line_count + 1):
        x, pick = divmod(x, len(products))
        x, quantity = divmod(x, 4)
        product = products[pick]
        quantity += 1
        price = product.price
        items_cents += product.price_cents * quantity
        line_id = f"{stem}{n:012x}"
        lines.append({
            "id": line_id, "platform_id": str(seq * 10 + n), "product_id": product.id, "variant_id": None,
            "price": price, "quantity": quantity, "iso_currency_code": currency, "sku": product.sku,
            "title": product.title, "unit_cost": product.unit_cost, "created_at": created,
            "updated_at": created,
        })
        shipped.append({"id": line_id, "product_id": product.id, "variant_id": None, "price": price,
                        "quantity": quantity, "sku": product.sku, "title": product.title})
    y = _draw(t.key, ~seq)
    y, payment = divmod(y, len(_PAYMENT))
    y, status = divmod(y, len(_STATUS))
    y, fulfillment = divmod(y, len(_FULFILLMENT))
    y, carrier = divmod(y, len(_CARRIERS))
    y, source = divmod(y, len(_SOURCES))
    y, buyer_pick = divmod(y, len(t.buyers))
    y, same_address = divmod(y, 5)
    y, wholesale = divmod(y, 10)
    y, discounted = divmod(y, 5)
    y, gift_note = divmod(y, 50)
    tax_cents = round(items_cents * 0.08)
    shipping_cents = 0 if items_cents > 10_000 else 750
    discount_cents = round(items_cents * 0.1) if discounted == 0 else 0
    buyer = t.buyers[buyer_pick]
    billing = dict(buyer.address)
    if gift_note == 0:
        billing["address2"] = text.NUL_TEXT
    payment_status, order_status, fulfillment_status = _PAYMENT[payment], _STATUS[status], _FULFILLMENT[fulfillment]
    carrier_name, service = _CARRIERS[carrier]
    number = str(1000 + seq)
    order: dict[str, Any] = {
        "id": order_id, "platform_id": number, "payment_status": payment_status, "status": order_status,
        "total_discount": discount_cents / 100,
        "total_price": (items_cents + tax_cents + shipping_cents - discount_cents) / 100,
        "fulfillment_status": fulfillment_status, "iso_currency_code": currency, "name": f"#{number}",
        "order_number": number, "source_name": _SOURCES[source], "total_line_items_price": items_cents / 100,
        "total_shipping": shipping_cents / 100, "total_shipping_discount": 0.0, "total_tax": tax_cents / 100,
        "tags": ["wholesale"] if wholesale == 0 else [], "billing_address": billing, "refunds": [],
        "shipping_address": billing if same_address else dict(buyer.other_address),
        "customer": {**buyer.customer, "created_at": created, "updated_at": created},
        "line_items": lines,
        "fulfillments": [] if fulfillment_status in ("unfulfilled", None) else [{
            "id": f"{stem}f{0:011x}", "order_id": order_id, "carrier": carrier_name, "service": service,
            "tracking_number": f"1Z{1_000_000_000 + y % 9_000_000_000}", "tracking_url": None,
            "line_items": shipped,
        }],
        "created_at": created,
        "updated_at": created if updated_ms == created_ms else iso_ms(updated_ms),
    }
    if order_status == "cancelled":
        order["cancelled_at"] = created
    if payment_status == "refunded":
        first_line = lines[0]
        order["refunds"] = [{"line_items": [{"line_item_id": first_line["id"], "quantity": 1, "status": "completed",
                                             "amount": f"{first_line['price']:.2f}"}]}]
    return order
