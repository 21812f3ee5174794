"""Rendering of sandbox objects: catalog-conformant defaults, shaped per endpoint, stamped from the index."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

import orjson

from rutter_pipeline.sandbox.isotime import iso_ms
from rutter_pipeline.sandbox.generators import accounting, commerce
from rutter_pipeline.sandbox.generators.orders import render_order
from rutter_pipeline.sandbox.generators.schema import Context, compile_object
from rutter_pipeline.sandbox.ids import stable_int, stable_uuid
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


def object_id(conn: SandboxConnection, path: str, seq: int) -> str:
    """The id of a generated object.

    The first accounting customer shares its id with the first commerce customer of the same-ranked commerce
    connection and with the first vendor of its own connection: ids are unique only within one endpoint.
    """
    return _object_id(conn.seed, conn.id, conn.family_rank, path, seq)


@functools.lru_cache(maxsize=65_536)
def _object_id(seed: int, conn_id: str, family_rank: int, path: str, seq: int) -> str:
    # Cached: orders reference the same few thousand products and customers over and over.
    if seq == 0 and path in ("/customers", "/accounting/customers", "/accounting/vendors"):
        return stable_uuid(seed, "shared-customer", family_rank)
    return stable_uuid(seed, conn_id, path, seq)


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


def generate(conn: SandboxConnection, path: str, seq: int, *, base_ms: int) -> dict[str, Any]:
    """The deterministic body of generated object `seq` (timestamps are stamped by `render`)."""
    rng = random.Random(stable_int(conn.seed, conn.id, path, seq))
    if path == "/orders":
        return render_order(order_id=object_id(conn, path, seq), seq=seq, created_ms=base_ms, currency=conn.currency,
                            rng=rng, links=Links(conn, rng))
    ctx = Context(rng=rng, base_ms=base_ms, currency=conn.currency, key=f"{conn.id}:{path}:{seq}")
    body = _plan(path)(ctx)
    body["id"] = object_id(conn, path, seq)
    if "platform_id" in body:
        body["platform_id"] = str(1000 + seq)
    shaper = SHAPERS.get(path)
    if shaper is not None:
        shaper(body, ctx, Links(conn, rng))
    return body


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
