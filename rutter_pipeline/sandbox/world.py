"""The sandbox's state: its connections, the object index, the anchor and a monotonic clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from rutter_pipeline.rutter.platforms import family_of
from rutter_pipeline.sandbox import generators, profiles
from rutter_pipeline.sandbox.ids import stable_uuid
from rutter_pipeline.sandbox.model import SandboxConnection
from rutter_pipeline.sandbox.spec import endpoint_specs
from rutter_pipeline.sandbox.store import NULL_MS, Row, Store

#: Store endpoint numbers: position of each data endpoint in the catalog.
EP_INDEX: dict[str, int] = {path: n for n, path in enumerate(endpoint_specs())}
EP_PATH: dict[int, str] = {n: path for path, n in EP_INDEX.items()}


class World:
    """Connections and objects of one sandbox, shared by the HTTP handlers and the Python API."""

    def __init__(
        self, *, seed: int, index_file: str, now: datetime | None, nulls: str = "first", synced: str = "bunched"
    ) -> None:
        if synced not in profiles.SYNCED_SHAPES:
            raise ValueError(f"synced must be one of {', '.join(profiles.SYNCED_SHAPES)}, got {synced!r}")
        self.seed = seed
        self.synced = synced
        self.store = Store(index_file, generated_ids=self._generated_ids, nulls=nulls)
        #: False makes `GET /connections/access_token` answer 404, as Rutter does for some platforms.
        self.serves_connection_details = True
        self.anchor_ms = profiles.anchor_ms(now)
        self.org_id = stable_uuid(seed, "organisation")
        self.connections: list[SandboxConnection] = []
        self._clock_lock = threading.Lock()
        self._last_stamp = self.anchor_ms

    def _generated_ids(self, conn_index: int, ep: int) -> Callable[[int], str]:
        return generators.generated_ids(self.connections[conn_index], EP_PATH[ep])

    def stamp(self) -> int:
        """A fresh timestamp (ms): wall-clock time, but always later than the anchor and every earlier stamp."""
        with self._clock_lock:
            self._last_stamp = max(int(time.time() * 1000), self._last_stamp + 1)
            return self._last_stamp

    def add_connection(
        self,
        platform: str,
        *,
        name: str | None = None,
        counts: dict[str, int],
        ready: bool = True,
        needs_update: bool = False,
        unhealthy: bool = False,
        disabled: bool = False,
        currency: str = "USD",
    ) -> SandboxConnection:
        """Create a connection and index its generated objects."""
        family = family_of(platform)
        if family is None:
            raise ValueError(f"unknown platform {platform!r}")
        unknown = [p for p in counts if p not in EP_INDEX or endpoint_specs()[p]["family"] != family.value]
        if unknown:
            raise ValueError(f"endpoints not served by a {family.value} connection: {unknown}")
        rank = sum(1 for c in self.connections if c.family == family.value)
        conn = SandboxConnection(
            index=len(self.connections),
            seed=self.seed,
            platform=platform.upper(),
            family=family.value,
            name=name or f"{platform.title()} connection",
            counts=dict(counts),
            family_rank=rank,
            created_ms=self.anchor_ms - profiles.HISTORY_DAYS * profiles.DAY_MS,
            last_sync_ms=self.anchor_ms if ready else self.anchor_ms - profiles.DAY_MS,
            ready=ready,
            needs_update=needs_update,
            unhealthy=unhealthy,
            disabled=disabled,
            currency=currency,
            org_id=self.org_id,
        )
        for path, count in conn.counts.items():
            self.store.insert_many(self._rows(conn, path, count))
        self.connections.append(conn)
        return conn

    def _rows(self, conn: SandboxConnection, path: str, count: int) -> Iterator[tuple[int, int, int, int, int, int]]:
        ep = EP_INDEX[path]
        fields = endpoint_specs()[path]["fields"]
        if conn.family == "commerce":
            generated = profiles.commerce_times(
                seed=self.seed + conn.index, path=path, count=count, anchor=self.anchor_ms
            )
        else:
            generated = profiles.accounting_times(
                seed=self.seed + conn.index, path=path, count=count, anchor=self.anchor_ms, synced=self.synced
            )
        # Null timestamps only where the catalog allows them (items, for one, always carry updated_at).
        created_nullable = fields.get("created_at", {}).get("nullable", False)
        updated_nullable = fields.get("updated_at", {}).get("nullable", False)
        if conn.family == "commerce" or (created_nullable and updated_nullable):
            return ((conn.index, ep, seq, *stamps) for seq, stamps in enumerate(generated))
        return self._non_null_rows(
            conn.index, ep, generated, created_nullable=created_nullable, updated_nullable=updated_nullable
        )

    def _non_null_rows(
        self,
        conn_index: int,
        ep: int,
        generated: Iterator[tuple[int, int, int]],
        *,
        created_nullable: bool,
        updated_nullable: bool,
    ) -> Iterator[tuple[int, int, int, int, int, int]]:
        earliest = self.anchor_ms - profiles.HISTORY_DAYS * profiles.DAY_MS
        for seq, (created, updated, synced) in enumerate(generated):
            if created == NULL_MS and not created_nullable:
                created = earliest
            if updated == NULL_MS and not updated_nullable:
                updated = max(created, earliest)
            yield conn_index, ep, seq, created, updated, synced

    def connection(self, key: str) -> SandboxConnection:
        """A connection by id, access token, name or platform (first match); KeyError otherwise."""
        for conn in self.connections:
            if key in (conn.id, conn.access_token, conn.name) or key.upper() == conn.platform:
                return conn
        raise KeyError(f"no sandbox connection {key!r}")

    def by_token(self, token: str) -> SandboxConnection | None:
        """The connection with this access token, or None."""
        return next((c for c in self.connections if c.access_token == token), None)

    def require_path(self, conn: SandboxConnection, path: str) -> int:
        """The store endpoint number of a data path this connection serves; ValueError otherwise."""
        spec = endpoint_specs().get(path)
        if spec is None or spec["kind"] not in ("list", "single"):
            raise ValueError(f"{path!r} is not a list endpoint the sandbox stores")
        if spec["family"] != conn.family:
            raise ValueError(f"{path} is not served by {conn.platform} ({conn.family}) connections")
        return EP_INDEX[path]

    def find(self, conn: SandboxConnection, path: str, object_id: str) -> Row:
        """The live row of one object; KeyError when unknown or deleted."""
        ep = self.require_path(conn, path)
        row = self.store.find(conn=conn.index, ep=ep, object_id=object_id)
        if row is None:
            seq = generators.generated_seq(conn, path, object_id)
            row = None if seq is None else self.store.get(conn=conn.index, ep=ep, seq=seq)
        if row is None or row.deleted_ms is not None:
            raise KeyError(f"no live object {object_id!r} at {path} of connection {conn.id}")
        return row

    def render(self, conn: SandboxConnection, path: str, row: Row) -> dict[str, Any]:
        """An object exactly as it is served now."""
        return generators.render(conn, path, row, anchor_ms=self.anchor_ms)
