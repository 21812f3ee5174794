"""`Sandbox`: an offline imitation of Rutter's API (2024-08-31) with deterministic data, change and faults."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from rutter_pipeline.sandbox import admin, profiles
from rutter_pipeline.sandbox.changes import Changes
from rutter_pipeline.sandbox.faults import Fault
from rutter_pipeline.sandbox.ratelimit import SlidingWindowLimit
from rutter_pipeline.sandbox.server import PREFIX, SandboxHTTPServer, Service, make_server
from rutter_pipeline.sandbox.webhooks import WebhookSender
from rutter_pipeline.sandbox.world import World

DEFAULT_CLIENT_ID = "sandbox-client-id"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
PROFILES = ("default", "empty", "many")


class Sandbox:
    """An offline Rutter API server.

    Args:
        seed: makes every id, token and object reproducible.
        client_id: the organisation's client id (Basic auth user).
        client_secret: the organisation's client secret (Basic auth password, webhook signing key).
        profile: `default` (Shopify, QuickBooks, Xero, Amazon not ready, NetSuite needing re-authentication)
            or `empty` (no connections; add them with `add_connection`), or `many` (`connections` small ones).
        connections: how many connections the `many` profile has (see `profiles.many_connections`).
        big_orders: when > 0, an extra Shopify connection with this many orders, served from a bounded index.
        data_dir: where the SQLite index lives (a temporary directory, removed on `stop`, when None).
        webhook_url: where signed webhooks are POSTed (none are sent when None).
        rate_limit: `(max_requests, per_seconds)` for the whole organisation, or None for no limit.
        now: the moment data is generated relative to (rounded down to the day); the current time when None.
        nulls: where null `created_at`/`updated_at` sort in ascending order, `first` or `last` (Rutter does not
            document it; descending order is the reverse).
        synced: accounting `last_synced_at` `bunched` at the initial sync and later refreshes (as Rutter
            stamps them), or `spread` over the history.
        connection_details: False makes `GET /connections/access_token` answer 404 (as Rutter does for
            platforms that do not support it); switch later with `serve_connection_details`.
    """

    def __init__(
        self,
        *,
        seed: int = 7,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        profile: str = "default",
        big_orders: int = 0,
        connections: int = 0,
        data_dir: str | Path | None = None,
        webhook_url: str | None = None,
        rate_limit: tuple[int, float] | None = (500, 10.0),
        now: datetime | None = None,
        nulls: str = "first",
        synced: str = "bunched",
        connection_details: bool = True,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
        if big_orders < 0:
            raise ValueError("big_orders must be >= 0")
        if (profile == "many") != (connections > 0):
            raise ValueError("the 'many' profile needs connections > 0, and only it takes connections")
        self._own_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="rutter-sandbox-") if data_dir is None else data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        index_file = self.data_dir / f"sandbox-{seed}.sqlite3"
        index_file.unlink(missing_ok=True)
        self.world = World(seed=seed, index_file=str(index_file), now=now, nulls=nulls, synced=synced)
        self.world.serves_connection_details = connection_details
        self.webhooks = WebhookSender(webhook_url, client_secret)
        self._changes = Changes(self.world, self.webhooks)
        limit = SlidingWindowLimit(*(rate_limit or (None, 10.0)))
        self._service = Service(
            world=self.world,
            client_id=client_id,
            client_secret=client_secret,
            limit=limit,
            admin=admin.AdminApi(self).handle,
        )
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if profile == "default":
            for spec in profiles.default_connections():
                self.world.add_connection(spec.pop("platform"), **spec)
        for spec in profiles.many_connections(connections):
            self.world.add_connection(spec.pop("platform"), **spec)
        if big_orders:
            self.world.add_connection("SHOPIFY", name="Shopify large store", counts=profiles.big_store(big_orders))
        self.world.store.build_indexes()

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a background thread; returns the base URL ending in `/versioned`."""
        if self._server is None:
            self._server = make_server(self._service, host, port)
            self._thread = threading.Thread(target=self._server.serve_forever, name="rutter-sandbox", daemon=True)
            self._thread.start()
            self.webhooks.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        """`http://host:port/versioned` of the running server."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an IPv4/IPv6 server's address is (host, port, ...), never a Unix path
        return f"http://{host}:{port}{PREFIX}"

    def stop(self) -> None:
        """Stop serving, flush webhooks, close the index (and remove it when it lives in a temporary dir)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.webhooks.stop()
        self.world.store.close()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- connections -----------------------------------------------------------------------------------

    def connections(self) -> list[dict[str, Any]]:
        """The `GET /connections` objects (id, access_token, platform, status, name, ...)."""
        return [c.listing() for c in self.world.connections]

    def connection_id(self, name_or_platform: str) -> str:
        """The id of the first connection with this name or platform (`"SHOPIFY"`, `"QuickBooks company"`)."""
        return self.world.connection(name_or_platform).id

    def access_token(self, name_or_platform: str) -> str:
        """The access token of a connection found by id, name or platform."""
        return self.world.connection(name_or_platform).access_token

    def add_connection(
        self,
        platform: str,
        *,
        name: str | None = None,
        ready: bool = True,
        needs_update: bool = False,
        unhealthy: bool = False,
        disabled: bool = False,
        counts: dict[str, int] | None = None,
        **object_counts: int,
    ) -> dict[str, Any]:
        """Add a connection with a small generated data set; `orders=100`, `invoices=5` ... set counts by name.

        `unhealthy=True` makes a ready connection whose status says `is_healthy: false` (its data stays readable);
        `disabled=True` one whose reads fail with `CONNECTION_DISABLED`.

        Keyword counts name the endpoint's last path segment (`orders`, `invoices`); `counts` takes full paths.
        """
        chosen = profiles.small_counts(platform) | dict(counts or {})
        chosen |= profiles.counts_by_object_name(platform, object_counts)
        conn = self.world.add_connection(
            platform,
            name=name,
            counts=chosen,
            ready=ready,
            needs_update=needs_update,
            unhealthy=unhealthy,
            disabled=disabled,
        )
        return conn.listing()

    def make_ready(self, connection_id: str) -> None:
        """Finish a not-ready connection's initial sync (sends the `INITIAL_UPDATE` webhook)."""
        self._changes.make_ready(self.world.connection(connection_id))

    # --- change over time ------------------------------------------------------------------------------

    def create(self, connection_id: str, path: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create an object, visible now; returns it as served."""
        return self._changes.create(self.world.connection(connection_id), path, fields)

    def update(
        self, connection_id: str, path: str, object_id: str, changes: dict[str, Any], *, late: bool = False
    ) -> dict[str, Any]:
        """Change an object; `late=True` serves the change only after the next `refresh()`."""
        return self._changes.update(self.world.connection(connection_id), path, object_id, changes, late=late)

    def delete(self, connection_id: str, path: str, object_id: str) -> None:
        """Delete an object: gone from lists, reported by `/events` (accounting) and a webhook."""
        self._changes.delete(self.world.connection(connection_id), path, object_id)

    def refresh(self) -> None:
        """Rutter's periodic refresh (late updates appear; touched accounting objects get a new last_synced_at)."""
        self._changes.refresh()

    def serve_connection_details(self, enabled: bool) -> None:
        """Serve `GET /connections/access_token`, or answer it with 404 ENDPOINT_NOT_SUPPORTED."""
        self.world.serves_connection_details = enabled

    def inject_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        path: str | None = None,
        retry_after_s: float | None = None,
        delay_s: float | None = None,
        item: str | None = None,
    ) -> None:
        """Make the next `count` API requests (under `path`, if given) fail as `kind` (see faults.KINDS).

        `item` is the raw JSON text an `extra_item` fault adds to each page's list.
        """
        if path is not None and path.startswith(PREFIX + "/"):
            path = path[len(PREFIX) :]
        self._service.faults.inject(
            Fault(kind=kind, count=count, path=path, retry_after_s=retry_after_s, delay_s=delay_s, item=item)
        )

    # --- ground truth ----------------------------------------------------------------------------------

    def truth(self, connection_id: str, path: str) -> Iterator[dict[str, Any]]:
        """Every live object of one endpoint exactly as it is served now."""
        conn = self.world.connection(connection_id)
        ep = self.world.require_path(conn, path)
        for row in self.world.store.all_rows(conn=conn.index, ep=ep):
            yield self.world.render(conn, path, row)

    def deleted_ids(self, connection_id: str, path: str) -> set[str]:
        """Ids of the deleted objects of one endpoint."""
        conn = self.world.connection(connection_id)
        ep = self.world.require_path(conn, path)
        return {row.id for row in self.world.store.all_rows(conn=conn.index, ep=ep, deleted=True)}

    @property
    def request_count(self) -> int:
        """Requests served so far (API and admin)."""
        return self._service.request_count

    @property
    def over_limit_count(self) -> int:
        """API requests refused (429) because they were over the organisation's rate limit."""
        return self._service.limit.refused

    @property
    def webhooks_sent(self) -> list[dict[str, Any]]:
        """Every webhook event raised so far (whether or not a URL is set)."""
        return list(self.webhooks.sent)
