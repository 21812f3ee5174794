"""Commerce orders, written out by hand rather than walked from the catalog: a million-order store is served
at tens of thousands of orders per second only if one order costs a few microseconds.

What makes it cheap:
- everything that does not vary per order (a connection's products, customers and their addresses) is built
  once per connection as `OrderTemplates`, already encoded as JSON;
- an order draws two 64-bit words from its sequence number and reads every choice off them as mixed-radix
  digits, instead of seeding a random generator;
- an order is assembled as JSON text from those pieces (`order_json`), which the server sends as it is;
  `render_order` parses that same text, so the Python API and the wire can never disagree.

The shape is the catalog's `Order` (every required field, the common optional ones); the spec validation tests
check it like every other endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from rutter_pipeline.sandbox import text
from rutter_pipeline.sandbox.ids import mix64, stable_int
from rutter_pipeline.sandbox.isotime import iso_ms


def _encoded(value: Any) -> str:
    # Non-ASCII characters as \u escapes (as many JSON encoders send them): an all-ASCII order is assembled
    # and handed to the socket without any re-encoding, several times cheaper than a UTF-8 one.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def _encoded_all(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple(_encoded(v) for v in values)


_PAYMENT = ("paid",) * 14 + ("pending", "refunded", "failed", "unknown")
_FULFILLMENT = ("fulfilled",) * 10 + ("unfulfilled", "partial", "unknown", None)
_STATUS = ("active",) * 12 + ("archived", "cancelled")
_CARRIERS = (("UPS", "Ground"), ("DHL", "Express"), ("USPS", "Priority"), ("La Poste", "Colissimo"))
_SOURCES = ("web", "pos", "shopify_draft_order", "iphone")
_PAYMENT_JSON, _STATUS_JSON, _SOURCES_JSON = _encoded_all(_PAYMENT), _encoded_all(_STATUS), _encoded_all(_SOURCES)
_FULFILLMENT_JSON = _encoded_all(_FULFILLMENT)
_CARRIERS_JSON = tuple(f'"carrier":{_encoded(c)},"service":{_encoded(s)}' for c, s in _CARRIERS)
_LINE_SUFFIXES = tuple(f"{n:012x}" for n in range(3))
_TAGS = ("[]", '["wholesale"]')
_M64 = (1 << 64) - 1
#: References go to the first few thousand products and customers: templates stay small for any store.
MAX_TEMPLATES = 4096


@dataclass(frozen=True)
class Product:
    """What an order line copies from a product: its price, and its other fields as encoded JSON members."""

    price_cents: int
    price: str
    members: str  # "product_id", "variant_id", "price", "sku", "title"
    unit_cost: str


@dataclass(frozen=True)
class Buyer:
    """What an order copies from a customer (JSON): the customer without its timestamps, and addresses."""

    customer_head: str  # the customer object, open for created_at/updated_at
    address: str
    address_with_note: str  # billing address2 carries a NUL character, as some platforms let through
    other_address: str


@dataclass(frozen=True)
class OrderTemplates:
    """The per-connection constants orders are assembled from."""

    key: int
    currency: str  # encoded
    products: tuple[Product, ...]
    buyers: tuple[Buyer, ...]


def _draw(key: int, n: int) -> int:
    return mix64(key ^ n * 0x9E3779B97F4A7C15 & _M64)


def _money(cents: int) -> str:
    return repr(cents / 100)


def _product(key: int, n: int, product_id: str | None) -> Product:
    x = _draw(key, n)
    x, title = divmod(x, len(text.PRODUCTS))
    x, sku = divmod(x, 900)
    cents = 400 + x % 24_600
    members = (
        f'"product_id":{_encoded(product_id)},"variant_id":null,"price":{_money(cents)},'
        f'"sku":"SKU-{100 + sku}","title":{_encoded(text.PRODUCTS[title])}'
    )
    return Product(price_cents=cents, price=_money(cents), members=members, unit_cost=repr(round(cents * 0.004, 2)))


def _address(x: int, first: str, last: str) -> dict[str, Any]:
    x, number = divmod(x, 999)
    x, street = divmod(x, len(text.LAST_NAMES))
    x, city = divmod(x, len(text.CITIES))
    return {
        "address1": f"{number + 1} {text.LAST_NAMES[street]} Street",
        "address2": "",
        "city": text.CITIES[city],
        "country_code": "US",
        "first_name": first,
        "last_name": last,
        "postal_code": str(10_000 + x % 90_000),
        "region": "CA",
        "phone": None,
    }


def _buyer(key: int, n: int, customer_id: str | None) -> Buyer:
    x = _draw(key, n)
    x, first = divmod(x, len(text.FIRST_NAMES))
    x, last = divmod(x, len(text.LAST_NAMES))
    x, user = divmod(x, len(text.WORDS) ** 2)
    x, number = divmod(x, 9999)
    first_name, last_name = text.FIRST_NAMES[first], text.LAST_NAMES[last]
    customer = {
        "id": customer_id,
        "platform_id": str(10_000 + x % 90_000),
        "phone": None,
        "email": f"{text.WORDS[user // len(text.WORDS)]}.{text.WORDS[user % len(text.WORDS)]}{number + 1}@example.com",
        "first_name": first_name,
        "last_name": last_name,
    }
    address = _address(_draw(key, ~n), first_name, last_name)
    return Buyer(
        customer_head=_encoded(customer)[:-1],
        address=_encoded(address),
        address_with_note=_encoded({**address, "address2": text.NUL_TEXT}),
        other_address=_encoded(_address(_draw(key, n << 32 | 1), first_name, last_name)),
    )


def build_templates(
    *, seed: int, conn_id: str, currency: str, product_ids: Sequence[str | None], customer_ids: Sequence[str | None]
) -> OrderTemplates:
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
    return OrderTemplates(key=key, currency=_encoded(currency), products=products, buyers=buyers)


def render_order(t: OrderTemplates, *, seq: int, order_id: str, created_ms: int, updated_ms: int) -> dict[str, Any]:
    """One order as a dict (the parsed `order_json`)."""
    return orjson.loads(order_json(t, seq=seq, order_id=order_id, created_ms=created_ms, updated_ms=updated_ms))


def _line_items(t: OrderTemplates, *, seq: int, stem: str, created: str) -> tuple[list[str], list[str], int, int]:
    """(line items, the same lines as a fulfillment lists them, items total, first line's price) in cents."""
    products = t.products
    lines, shipped = [], []
    items_cents = first_cents = 0
    x = _draw(t.key, seq)
    x, line_count = divmod(x, 3)
    for n in range(line_count + 1):
        x, pick = divmod(x, len(products))
        x, quantity = divmod(x, 4)
        product = products[pick]
        if n == 0:
            first_cents = product.price_cents
        items_cents += product.price_cents * (quantity + 1)
        head = f'{{"id":"{stem}{_LINE_SUFFIXES[n]}","quantity":{quantity + 1},{product.members}'
        lines.append(
            f'{head},"platform_id":"{seq * 10 + n}","iso_currency_code":{t.currency},'
            f'"unit_cost":{product.unit_cost},"created_at":"{created}","updated_at":"{created}"}}'
        )
        shipped.append(f"{head}}}")
    return lines, shipped, items_cents, first_cents


def order_json(t: OrderTemplates, *, seq: int, order_id: str, created_ms: int, updated_ms: int) -> str:
    """One order as JSON text: line items priced from products, totals that add up, customer, fulfillment,
    refunds."""
    created = iso_ms(created_ms)
    stem = order_id[:24]  # child ids share the order's unique prefix
    lines, shipped, items_cents, first_cents = _line_items(t, seq=seq, stem=stem, created=created)
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
    total_cents = items_cents + tax_cents + shipping_cents - discount_cents
    buyer = t.buyers[buyer_pick]
    billing = buyer.address_with_note if gift_note == 0 else buyer.address
    if _FULFILLMENT[fulfillment] in ("unfulfilled", None):
        fulfillments = "[]"
    else:
        fulfillments = (
            f'[{{"id":"{stem}f{0:011x}","order_id":"{order_id}",{_CARRIERS_JSON[carrier]},'
            f'"tracking_number":"1Z{1_000_000_000 + y % 9_000_000_000}","tracking_url":null,'
            f'"line_items":[{",".join(shipped)}]}}]'
        )
    refunds = (
        "[]"
        if _PAYMENT[payment] != "refunded"
        else (
            f'[{{"line_items":[{{"line_item_id":"{stem}{_LINE_SUFFIXES[0]}","quantity":1,"status":"completed",'
            f'"amount":"{first_cents / 100:.2f}"}}]}}]'
        )
    )
    cancelled = f'"cancelled_at":"{created}",' if _STATUS[status] == "cancelled" else ""
    updated = created if updated_ms == created_ms else iso_ms(updated_ms)
    number = 1000 + seq
    return (
        f'{{"id":"{order_id}","platform_id":"{number}","payment_status":{_PAYMENT_JSON[payment]},'
        f'"status":{_STATUS_JSON[status]},"fulfillment_status":{_FULFILLMENT_JSON[fulfillment]},'
        f'"iso_currency_code":{t.currency},"name":"#{number}","order_number":"{number}",'
        f'"source_name":{_SOURCES_JSON[source]},"total_discount":{_money(discount_cents)},'
        f'"total_price":{_money(total_cents)},"total_line_items_price":{_money(items_cents)},'
        f'"total_shipping":{_money(shipping_cents)},"total_shipping_discount":0.0,"total_tax":{_money(tax_cents)},'
        f'"tags":{_TAGS[wholesale == 0]},"billing_address":{billing},'
        f'"shipping_address":{billing if same_address else buyer.other_address},'
        f'"customer":{buyer.customer_head},"created_at":"{created}","updated_at":"{created}"}},'
        f'"line_items":[{",".join(lines)}],"fulfillments":{fulfillments},"refunds":{refunds},{cancelled}'
        f'"created_at":"{created}","updated_at":"{updated}"}}'
    )
