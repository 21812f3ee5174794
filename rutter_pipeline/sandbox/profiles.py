"""What data a sandbox starts with: connections per profile and the timestamps of every generated object.

Timestamps are laid out relative to the anchor ("now" rounded down to the day) and include the cases that break
naive sync code on purpose: objects from 2015, objects exactly on a month boundary and the millisecond before,
hundreds of orders sharing one `updated_at`, accounting objects whose `created_at`/`updated_at` are null, and
an initial accounting sync that stamps almost everything with one shared `last_synced_at`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.platforms import family_of
from rutter_pipeline.rutter.timeutil import from_ms, to_ms
from rutter_pipeline.sandbox.store import NULL_MS

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
HISTORY_DAYS = 26 * 30
OLD_MS = to_ms(datetime(2015, 3, 14, 9, 26, 53, tzinfo=UTC))
#: How many orders share one updated_at (more than the 500 of a maximal page).
SHARED_UPDATED_AT_ORDERS = 600

SHOPIFY_COUNTS = {
    "/orders": 2000,
    "/products": 150,
    "/customers": 400,
    "/transactions": 1500,
    "/payouts": 120,
    "/subscriptions": 30,
    "/customer_groups": 8,
}
QUICKBOOKS_COUNTS = {
    "/accounting/accounts": 60,
    "/accounting/invoices": 400,
    "/accounting/bills": 300,
    "/accounting/invoice_payments": 300,
    "/accounting/bill_payments": 220,
    "/accounting/invoice_credit_memos": 40,
    "/accounting/bill_credit_memos": 25,
    "/accounting/customers": 120,
    "/accounting/vendors": 80,
    "/accounting/journal_entries": 150,
    "/accounting/expenses": 200,
    "/accounting/items": 80,
    "/accounting/purchase_orders": 60,
    "/accounting/tax_rates": 10,
    "/accounting/classes": 8,
    "/accounting/departments": 6,
    "/accounting/locations": 5,
    "/accounting/payment_terms": 6,
    "/accounting/currencies": 4,
    "/accounting/transactions": 100,
    "/accounting/bank_deposits": 40,
    "/accounting/bank_transfers": 30,
    "/accounting/company_info": 1,
}


def scaled(counts: dict[str, int], factor: float) -> dict[str, int]:
    """Counts multiplied by a factor (at least one object each)."""
    return {path: max(1, int(n * factor)) for path, n in counts.items()}


def default_connections() -> list[dict]:
    """The default profile: (platform, name, counts, ready, needs_update) of each connection."""
    return [
        {"platform": "SHOPIFY", "name": "Shopify store", "counts": SHOPIFY_COUNTS},
        {"platform": "QUICKBOOKS", "name": "QuickBooks company", "counts": QUICKBOOKS_COUNTS},
        {"platform": "XERO", "name": "Xero organisation", "counts": scaled(QUICKBOOKS_COUNTS, 0.25), "currency": "GBP"},
        {"platform": "AMAZON", "name": "Amazon seller", "counts": scaled(SHOPIFY_COUNTS, 0.15), "ready": False},
        {
            "platform": "NETSUITE",
            "name": "NetSuite subsidiary",
            "counts": scaled(QUICKBOOKS_COUNTS, 0.1),
            "needs_update": True,
        },
    ]


def many_connections(count: int) -> list[dict]:
    """The `many` profile: `count` small connections (a few dozen objects each), for measuring at scale.

    Two of every three are Shopify stores, the third a QuickBooks company; one in 25 has not finished its
    initial sync, so each survey still has connections to ask about.
    """
    shop, books = scaled(SHOPIFY_COUNTS, 0.005), scaled(QUICKBOOKS_COUNTS, 0.01)
    return [
        {
            "platform": "QUICKBOOKS" if i % 3 == 2 else "SHOPIFY",
            "name": f"{'Books' if i % 3 == 2 else 'Shop'} {i + 1:05d}",
            "counts": books if i % 3 == 2 else shop,
            "ready": i % 25 != 24,
        }
        for i in range(count)
    ]


def anchor_ms(now: datetime | None) -> int:
    """The anchor all generated timestamps are relative to: `now` rounded down to the day (UTC)."""
    moment = now or datetime.now(UTC)
    return to_ms(moment) // DAY_MS * DAY_MS


def month_start_ms(ms: int) -> int:
    """The first millisecond of the calendar month containing `ms`."""
    moment = from_ms(ms)
    return to_ms(datetime(moment.year, moment.month, 1, tzinfo=UTC))


def initial_sync_ms(anchor: int) -> int:
    """The one last_synced_at Rutter's initial sync gave every accounting object."""
    return anchor - 7 * DAY_MS + 2 * HOUR_MS


def commerce_times(*, seed: int, path: str, count: int, anchor: int) -> Iterator[tuple[int, int, int]]:
    """`(created_ms, updated_ms, NULL synced)` for each generated commerce object, by sequence number."""
    span = HISTORY_DAYS * DAY_MS
    start = anchor - span
    latest = anchor - 1
    # One C call per object (getrandbits) rather than two randrange calls: a million-order index is built
    # in seconds. The low bits place the creation within its day, the high bits the update after it.
    draw = random.Random(f"{seed}:{path}:times").getrandbits
    shared_updated = anchor - 3 * DAY_MS + 12 * HOUR_MS
    shared_from, shared_to = (count // 2, count // 2 + SHARED_UPDATED_AT_ORDERS) if count >= 1000 else (0, 0)
    boundary = month_start_ms(anchor - 40 * DAY_MS)
    for seq in range(count):
        r = draw(64)
        created = start + seq * span // count + r % DAY_MS
        if created > latest:
            created = latest
        updated = created + (r >> 32) % (3 * DAY_MS)
        if updated > latest:
            updated = latest
        if seq < 5:
            created = updated = OLD_MS + seq * DAY_MS if seq < 3 else boundary if seq == 3 else boundary - 1
        elif shared_from <= seq < shared_to and created <= shared_updated:
            # One bulk edit on the platform (e.g. re-tagging) stamps many orders with the same instant.
            updated = shared_updated
        yield created, updated, NULL_MS


#: How accounting objects' `last_synced_at` is laid out: `bunched` at the connection's initial sync and the
#: hourly refreshes after it (what Rutter does), or `spread` over the history (an hour after each update).
SYNCED_SHAPES = ("bunched", "spread")


def accounting_times(
    *, seed: int, path: str, count: int, anchor: int, synced: str = "bunched"
) -> Iterator[tuple[int, int, int]]:
    """`(created_ms, updated_ms, synced_ms)` for each generated accounting object (NULL_MS for null)."""
    initial = initial_sync_ms(anchor)
    for seq, (created, updated, _) in enumerate(commerce_times(seed=seed, path=path, count=count, anchor=anchor)):
        if synced == "spread" or updated > initial:
            # Changed after the initial sync (or every object, when spread): picked up by the next hourly refresh.
            synced_ms = min(updated // HOUR_MS * HOUR_MS + HOUR_MS + 5 * 60_000, anchor)
        else:
            synced_ms = initial
        if seq % 23 == 7:
            created = updated = NULL_MS
        elif seq % 23 == 11:
            created = NULL_MS
        if count == 1:
            created, updated = anchor - HISTORY_DAYS * DAY_MS, anchor - 30 * DAY_MS
        yield created, updated, synced_ms


def big_store(orders: int) -> dict[str, int]:
    """A Shopify store with `orders` orders and a modest catalogue around them."""
    return {"/orders": orders, "/products": 200, "/customers": 1000, "/transactions": 100, "/payouts": 20}


def small_counts(platform: str) -> dict[str, int]:
    """The data set of a connection added at runtime: a tenth of the default profile's."""
    family = family_of(platform)
    if family is None:
        raise ValueError(f"unknown platform {platform!r}")
    return scaled(SHOPIFY_COUNTS if family is Family.COMMERCE else QUICKBOOKS_COUNTS, 0.1)


def counts_by_object_name(platform: str, counts: dict[str, int]) -> dict[str, int]:
    """`{"orders": 5}` → `{"/orders": 5}` for the platform's family; ValueError for names it does not serve."""
    base = small_counts(platform)
    by_name = {path.rsplit("/", 1)[-1]: path for path in base}
    unknown = sorted(set(counts) - set(by_name))
    if unknown:
        raise ValueError(f"{platform} connections have no {unknown}; known: {sorted(by_name)}")
    negative = [name for name, n in counts.items() if n < 0]
    if negative:
        raise ValueError(f"object counts must be >= 0: {negative}")
    return {by_name[name]: n for name, n in counts.items()}
