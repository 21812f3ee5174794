"""Rendering of sandbox objects: catalog-conformant defaults, shaped per endpoint, stamped from the index."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

import orjson

from rutter_pipeline.sandbox.generators import accounting, commerce, orders
from rutter_pipeline.sandbox.generators.schema import Context, compile_object
from rutter_pipeline.sandbox.ids import IdSpace, stable_int, stable_uuid
from rutter_pipeline.sandbox.isotime import iso_ms
from rutter_pipeline.sandbox.model import SandboxConnection
from rutter_pipeline.sandbox.spec import endpoint_specs
from rutter_pipeline.sandbox.store import NULL_MS, Row

Shaper = Callable[[dict[str, Any], Context, "Links"], None]
SHAPERS: dict[str, Shaper] = {**commerce.SHAPERS, **accounting.SHAPERS}


@functools.cache
def _plan(path: str) -> Callable[[Context], dict[str, Any]]:
    return compile_object(endpoint_specs()[path]["fields"])


@functools.cache
def timestamp_fields(path: str) -> frozenset[str]:
    """Which of created_at/updated_at/last_synced_at the endpoint's objects carry."""
    return frozenset(endpoint_specs()[path]["fields"]) & {"created_at", "updated_at", "last_synced_at"}


#: Endpoints whose first generated object shares its id across endpoints (and connections of both families).
_SHARED_FIRST = frozenset({"/customers", "/accounting/customers", "/accounting/vendors"})


@functools.lru_cache(maxsize=1024)
def _id_space(seed: int, conn_id: str, path: str) -> IdSpace:
    return IdSpace(stable_int(seed, conn_id, path))


def _ids(*, seed: int, conn_id: str, family_rank: int, path: str) -> Callable[[int], str]:
    id_of = _id_space(seed, conn_id, path).id_of
    if path not in _SHARED_FIRST:
        return id_of
    shared = stable_uuid(seed, "shared-customer", family_rank)
    return lambda seq: shared if seq == 0 else id_of(seq)


def generated_ids(conn: SandboxConnection, path: str) -> Callable[[int], str]:
    """The id of each generated object of one endpoint, by sequence number (see `object_id`)."""
    return _ids(seed=conn.seed, conn_id=conn.id, family_rank=conn.family_rank, path=path)


def object_id(conn: SandboxConnection, path: str, seq: int) -> str:
    """The id of a generated object.

    The first accounting customer shares its id with the first commerce customer of the same-ranked commerce
    connection and with the first vendor of its own connection: ids are unique only within one endpoint.
    """
    return generated_ids(conn, path)(seq)


def generated_seq(conn: SandboxConnection, path: str, object_id: str) -> int | None:
    """The sequence number of the generated object with this id, or None when no generated object has it."""
    if path in _SHARED_FIRST and object_id == stable_uuid(conn.seed, "shared-customer", conn.family_rank):
        return 0
    seq = _id_space(conn.seed, conn.id, path).seq_of(object_id)
    if seq is None or seq >= conn.counts.get(path, 0) or (seq == 0 and path in _SHARED_FIRST):
        return None
    return seq


class Links:
    """Ids of other generated objects of the same connection, for references between objects."""

    def __init__(self, conn: SandboxConnection, rng: random.Random) -> None:
        self.conn = conn
        self.rng = rng

    def count(self, path: str) -> int:
        """How many objects of `path` were generated for the connection."""
        return self.conn.counts.get(path, 0)

    def pick(self, path: str) -> str | None:
        """The id of a random generated object of `path`, or None when there is none."""
        n = self.count(path)
        return object_id(self.conn, path, self.rng.randrange(n)) if n else None

    def nth(self, path: str, seq: int) -> str:
        """The id of generated object number `seq` of `path`."""
        return object_id(self.conn, path, seq)


def _templates(conn: SandboxConnection) -> orders.OrderTemplates:
    return _cached_templates(
        seed=conn.seed,
        conn_id=conn.id,
        family_rank=conn.family_rank,
        currency=conn.currency,
        products=conn.counts.get("/products", 0),
        customers=conn.counts.get("/customers", 0),
    )


@functools.lru_cache(maxsize=64)
def _cached_templates(
    *, seed: int, conn_id: str, family_rank: int, currency: str, products: int, customers: int
) -> orders.OrderTemplates:
    def referable(path: str, count: int) -> list[str | None]:
        id_of = _ids(seed=seed, conn_id=conn_id, family_rank=family_rank, path=path)
        return [id_of(n) for n in range(min(count, orders.MAX_TEMPLATES))] or [None]

    return orders.build_templates(
        seed=seed,
        conn_id=conn_id,
        currency=currency,
        product_ids=referable("/products", products),
        customer_ids=referable("/customers", customers),
    )


def generate(conn: SandboxConnection, path: str, seq: int, *, base_ms: int) -> dict[str, Any]:
    """The deterministic body of generated object `seq` (timestamps are stamped by `render`)."""
    if path == "/orders":
        return orders.render_order(
            _templates(conn), seq=seq, order_id=object_id(conn, path, seq), created_ms=base_ms, updated_ms=base_ms
        )
    rng = random.Random(stable_int(conn.seed, conn.id, path, seq))
    ctx = Context(rng=rng, base_ms=base_ms, currency=conn.currency, key=f"{conn.id}:{path}:{seq}")
    body = _plan(path)(ctx)
    body["id"] = object_id(conn, path, seq)
    if "platform_id" in body:
        body["platform_id"] = str(1000 + seq)
    shaper = SHAPERS.get(path)
    if shaper is not None:
        shaper(body, ctx, Links(conn, rng))
    return body


def renderer(
    conn: SandboxConnection, path: str, *, anchor_ms: int, encoded: bool = False
) -> Callable[[Row], dict[str, Any] | orjson.Fragment]:
    """`render` for many rows of one endpoint, with the per-endpoint work done once.

    With `encoded`, generated orders come as JSON text (`orjson.Fragment`, serialised as it is) rather than
    dicts: what lets the server answer with tens of thousands of orders per second.
    """
    if path != "/orders" or not encoded:
        return lambda row: render(conn, path, row, anchor_ms=anchor_ms)
    templates = _templates(conn)
    order_json, fragment = orders.order_json, orjson.Fragment

    def render_row(row: Row) -> dict[str, Any] | orjson.Fragment:
        if row.body is not None or row.created_ms == NULL_MS:
            return render(conn, path, row, anchor_ms=anchor_ms)
        return fragment(
            order_json(templates, seq=row.seq, order_id=row.id, created_ms=row.created_ms, updated_ms=row.updated_ms)
        )

    return render_row


def render(conn: SandboxConnection, path: str, row: Row, *, anchor_ms: int) -> dict[str, Any]:
    """The object as served now: its stored body if it was changed, else generated; timestamps from the row."""
    if row.body is not None:
        body = orjson.loads(row.body)
    else:
        base = row.created_ms if row.created_ms != NULL_MS else anchor_ms - 400 * 86_400_000
        body = generate(conn, path, row.seq, base_ms=base)
    stamp(body, path, created_ms=row.created_ms, updated_ms=row.updated_ms, synced_ms=row.synced_ms)
    return body


def stamp(body: dict[str, Any], path: str, *, created_ms: int, updated_ms: int, synced_ms: int) -> None:
    """Write the index's timestamps into the body (null where the index holds NULL_MS)."""
    fields = timestamp_fields(path)
    for name, ms in (("created_at", created_ms), ("updated_at", updated_ms), ("last_synced_at", synced_ms)):
        if name in fields:
            body[name] = None if ms == NULL_MS else iso_ms(ms)
