"""Change over time: objects created, updated (now or after Rutter's refresh lag), deleted, and the refresh.

Every change stamps the platform's `updated_at` with the sandbox clock. Accounting objects also get a new
`last_synced_at` when the change becomes visible, and again (one shared stamp) at the next refresh, as Rutter
re-syncs everything touched since its last run.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson

from rutter_pipeline.sandbox import generators
from rutter_pipeline.sandbox.ids import stable_uuid
from rutter_pipeline.sandbox.model import SandboxConnection
from rutter_pipeline.sandbox.store import NULL_MS
from rutter_pipeline.sandbox.webhooks import WebhookSender
from rutter_pipeline.sandbox.world import EP_PATH, World

_SINGULAR = {"classes": "CLASS", "entries": "ENTRY", "currencies": "CURRENCY", "addresses": "ADDRESS"}
_OWN_KEYS = frozenset({"id", "created_at", "updated_at", "last_synced_at"})


def entity_name(path: str) -> str:
    """Webhook entity of an endpoint: `/orders` → ORDER, `/accounting/journal_entries` → JOURNAL_ENTRY."""
    plural = path.rsplit("/", 1)[-1]
    for ending, singular in _SINGULAR.items():
        if plural.endswith(ending):
            return (plural[: -len(ending)] + singular).upper()
    return plural.rstrip("s").upper()


class Changes:
    """The change API of one sandbox (thread-safe: one change at a time)."""

    def __init__(self, world: World, webhooks: WebhookSender) -> None:
        self.world = world
        self.webhooks = webhooks
        self._lock = threading.Lock()

    def create(self, conn: SandboxConnection, path: str, fields: dict[str, Any] | None) -> dict[str, Any]:
        """A new object, visible now; `fields` override the generated ones (an `id` among them is kept)."""
        with self._lock:
            ep = self.world.require_path(conn, path)
            seq = self.world.store.next_seq(conn=conn.index, ep=ep)
            now = self.world.stamp()
            body = generators.generate(conn, path, seq, base_ms=now)
            body["id"] = stable_uuid(conn.id, path, "created", seq, now)
            body.update(fields or {})
            synced = now if conn.family == "accounting" else NULL_MS
            self.world.store.write(
                conn=conn.index,
                ep=ep,
                seq=seq,
                values={
                    "id": str(body["id"]),
                    "created_ms": now,
                    "updated_ms": now,
                    "synced_ms": synced,
                    "body": orjson.dumps(body),
                    "touched": 1,
                },
            )
            created = self._current(conn, path, str(body["id"]))
        self._notify(conn, path, "CREATED", created)
        return created

    def update(
        self, conn: SandboxConnection, path: str, object_id: str, changes: dict[str, Any], *, late: bool
    ) -> dict[str, Any]:
        """Change fields of an object; with `late` it is served only after the next refresh (still stamped now)."""
        if _OWN_KEYS & set(changes):
            raise ValueError(f"the sandbox stamps {sorted(_OWN_KEYS)} itself; do not pass them in changes")
        with self._lock:
            row = self.world.find(conn, path, object_id)
            now = self.world.stamp()
            # A second late change builds on the first one, not on the version still served.
            base = orjson.loads(row.pending)["body"] if row.pending else self.world.render(conn, path, row)
            body = {**base, **changes}
            if late:
                values: dict[str, Any] = {"pending": orjson.dumps({"body": body, "updated_ms": now}), "touched": 1}
            else:
                values = {"body": orjson.dumps(body), "updated_ms": now, "touched": 1, "pending": None}
                if conn.family == "accounting":
                    values["synced_ms"] = now
            self.world.store.write(conn=conn.index, ep=row.ep, seq=row.seq, values=values)
        generators.stamp(
            body, path, created_ms=row.created_ms, updated_ms=now, synced_ms=values.get("synced_ms", row.synced_ms)
        )
        if not late:
            self._notify(conn, path, "UPDATED", body)
        return body

    def delete(self, conn: SandboxConnection, path: str, object_id: str) -> None:
        """Drop an object from lists; reported by `/events` (accounting) and an `<ENTITY>_DELETED` webhook."""
        with self._lock:
            row = self.world.find(conn, path, object_id)
            self.world.store.write(
                conn=conn.index, ep=row.ep, seq=row.seq, values={"deleted_ms": self.world.stamp(), "pending": None}
            )
        self._notify(conn, path, "DELETED", {"id": object_id})

    def refresh(self) -> None:
        """Rutter's periodic refresh: late updates become visible; touched accounting objects are re-stamped."""
        late: list[tuple[SandboxConnection, str, str]] = []
        with self._lock:
            now = self.world.stamp()
            for conn_index, ep, seq, pending in self.world.store.touched():
                conn = self.world.connections[conn_index]
                values: dict[str, Any] = {"touched": 0, "pending": None}
                if pending is not None:
                    change = orjson.loads(pending)
                    values.update(body=orjson.dumps(change["body"]), updated_ms=change["updated_ms"])
                    late.append((conn, EP_PATH[ep], change["body"]["id"]))
                if conn.family == "accounting":
                    values["synced_ms"] = now
                self.world.store.write(conn=conn_index, ep=ep, seq=seq, values=values)
            for conn in self.world.connections:
                if conn.ready:
                    conn.last_sync_ms = now
        for conn, path, object_id in late:
            self._notify(conn, path, "UPDATED", self._current(conn, path, object_id))

    def make_ready(self, conn: SandboxConnection) -> None:
        """Finish a connection's initial sync and send the `INITIAL_UPDATE` webhook."""
        with self._lock:
            conn.ready = True
            conn.last_sync_ms = self.world.stamp()
        self.webhooks.send(
            {
                "type": "CONNECTION",
                "code": "INITIAL_UPDATE",
                "connection_id": conn.id,
                "access_token": conn.access_token,
            }
        )

    def _current(self, conn: SandboxConnection, path: str, object_id: str) -> dict[str, Any]:
        return self.world.render(conn, path, self.world.find(conn, path, object_id))

    def _notify(self, conn: SandboxConnection, path: str, verb: str, obj: dict[str, Any]) -> None:
        entity = entity_name(path)
        self.webhooks.send(
            {
                "type": entity,
                "code": f"{entity}_{verb}",
                "connection_id": conn.id,
                "access_token": conn.access_token,
                entity.lower(): obj,
            }
        )
