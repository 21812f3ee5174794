"""Windows of one connection backfilled at once, with an incremental pull of it running meanwhile, converge.

This is what lets a large connection's months be pulled by several workers: each window merges under the
version guard, so the order in which concurrent writers commit does not matter. Real sandbox, real HTTP, both
warehouses; the workers are threads with a client each, as separate runs would have.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import Endpoint, get
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.paging import Page
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rutter_pipeline.sync import SyncSummary, backfill, incremental
from rutter_pipeline.sync.periods import month_windows
from rutter_pipeline.warehouse.tables import quarantine, raw_table, sync_state
from rutter_pipeline_tests.sync.truth import assert_matches_truth, stored_rows

ORDERS = get("orders")
#: Small pages and batches, so each window takes several round trips and the workers interleave.
PAGE_SIZE = 50
BATCH_SIZE = 100
CHANGED = 10


class HeldClient(RutterClient):
    """A client that holds its first page of backfill after reading it, until the test releases it.

    Only the moment is controlled: the page is read from the sandbox over HTTP and loaded by the real engine.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.read = threading.Event()
        self.release = threading.Event()
        self.first_page: list[dict] = []

    def window_pages(self, endpoint: Endpoint, *, access_token: str, window: Window) -> Iterator[Page]:
        for page in super().window_pages(endpoint, access_token=access_token, window=window):
            if not self.read.is_set() and page.objects:
                self.first_page = list(page.objects)
                self.read.set()
                assert self.release.wait(60), "the test did not release the held page"
            yield page


def held_client(sandbox) -> HeldClient:
    return HeldClient(
        base_url=sandbox.base_url,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        page_size=PAGE_SIZE,
    )


class Worker(threading.Thread):
    """Runs `pull` on a thread of its own, keeping its summaries and any error for the test to check."""

    def __init__(self, name: str, pull: Callable[[], list[SyncSummary]]) -> None:
        super().__init__(name=name, daemon=True)
        self.pull = pull
        self.summaries: list[SyncSummary] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.summaries = self.pull()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def finish(self) -> list[SyncSummary]:
        self.join(120)
        assert not self.is_alive(), f"{self.name} did not finish"
        assert self.error is None, f"{self.name} failed: {self.error!r}"
        return self.summaries


def backfill_months(client: RutterClient, engine: sa.Engine, connection, windows: list[Window]) -> list[SyncSummary]:
    return [
        backfill(
            client=client,
            engine=engine,
            connection=connection,
            endpoint=ORDERS,
            window=window,
            batch_size=BATCH_SIZE,
        )
        for window in windows
    ]


def pull_changes(client: RutterClient, engine: sa.Engine, connection) -> list[SyncSummary]:
    return [incremental(client=client, engine=engine, connection=connection, endpoint=ORDERS, batch_size=BATCH_SIZE)]


def test_concurrent_windows_and_an_incremental_pull_of_one_connection_converge(sandbox, engine):
    clients: list[RutterClient] = []
    try:
        older, newer = held_client(sandbox), held_client(sandbox)
        changes = RutterClient(
            base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET
        )
        clients += [older, newer, changes]
        connection = next(c for c in changes.list_connections() if c.platform == "SHOPIFY")
        # The sandbox's orders span about two years: every month since 2024-11 is a window, the first also
        # taking everything older. The older half goes to one worker, the newer half to another.
        windows = month_windows(datetime(2024, 11, 1, tzinfo=UTC))
        middle = len(windows) // 2
        # Slow pages keep both windows' workers busy at the same time once they are released.
        sandbox.inject_fault("slow", count=100_000, path=f"/versioned{ORDERS.path}", delay_s=0.02)

        first = Worker("older months", lambda: backfill_months(older, engine, connection, windows[:middle]))
        second = Worker("newer months", lambda: backfill_months(newer, engine, connection, windows[middle:]))
        first.start()
        second.start()
        assert older.read.wait(60) and newer.read.wait(60), "a window's first page was never read"
        assert len(older.first_page) >= CHANGED, "the oldest window should fill its first page"

        # Both windows are in flight. Objects of the older window's first page change after it was read and
        # before it is written, and the incremental pull stores their newer versions first.
        held = [obj["id"] for obj in older.first_page[:CHANGED]]
        for number, object_id in enumerate(held):
            sandbox.update(connection.id, ORDERS.path, object_id, {"status": "archived", "note": f"change {number}"})
        created = [sandbox.create(connection.id, ORDERS.path)["id"] for _ in range(3)]
        puller = Worker("incremental", lambda: pull_changes(changes, engine, connection))
        puller.start()
        pulled = puller.finish()
        assert pulled[0].status == "ok" and pulled[0].inserted + pulled[0].updated >= CHANGED + len(created)
        stored = stored_rows(engine, ORDERS, connection.id)
        assert {key: stored[key]["status"] for key in held} == dict.fromkeys(held, "archived")

        # Now both windows go on at once, and the held page's stale versions reach the warehouse: the version
        # guard keeps the newer ones.
        older.release.set()
        newer.release.set()
        summaries = first.finish() + second.finish()
        assert all(s.status == "ok" for s in summaries), [s.as_dict() for s in summaries if s.status != "ok"]
        stale = sum(s.unchanged for s in first.summaries)
        assert stale >= CHANGED, "the held page's objects were older than the stored rows and must not be written"

        # The next incremental pull (the schedule's) then finds the warehouse equal to the sandbox.
        after = pull_changes(changes, engine, connection)
        total = assert_matches_truth(engine, sandbox, connection.id, ORDERS)
        stored = stored_rows(engine, ORDERS, connection.id)
        assert set(created) <= stored.keys()
        assert {key: stored[key]["status"] for key in held} == dict.fromkeys(held, "archived")

        # Every object was inserted exactly once across the workers, nothing was quarantined, and each window
        # is recorded as loaded.
        everything = summaries + pulled + after
        assert sum(s.inserted for s in everything) == total
        table = raw_table(ORDERS)
        with engine.connect() as db:
            rows, distinct = db.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(table.c.id)))).one()
            assert rows == distinct == total
            assert db.execute(sa.select(sa.func.count()).select_from(quarantine)).scalar_one() == 0
            streams = db.execute(
                sa.select(sync_state.c.stream).where(
                    sync_state.c.connection_id == connection.id, sync_state.c.stream.like("backfill:orders:%")
                )
            ).scalars()
            assert len(set(streams)) == len(windows)
    finally:
        for client in clients:
            if isinstance(client, HeldClient):
                client.release.set()
            client.close()
