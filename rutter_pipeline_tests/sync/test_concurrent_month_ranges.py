"""Windows of one connection backfilled at the same time, with an incremental pull among them, converge to truth.

`rutter-pipeline sync` (and the daemon) run the month ranges of one large connection side by side; this is what
makes that safe: each object is merged under the version guard, and the incremental watermark is only lowered,
atomically, by the backfills.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from rutter_pipeline.rutter.catalog import Family, Kind, endpoints_for
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.timeutil import to_ms
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rutter_pipeline.sync import backfill, incremental
from rutter_pipeline.sync.periods import month_windows
from rutter_pipeline.sync.watermarks import incremental_stream
from rutter_pipeline.warehouse import sync_state
from rutter_pipeline_tests.sync.test_sync_converges import three_months_back
from rutter_pipeline_tests.sync.truth import assert_matches_truth

COMMERCE_LISTS = [e for e in endpoints_for(Family.COMMERCE) if e.kind is not Kind.REPORT]


def test_concurrent_windows_and_an_incremental_pull_of_one_connection_converge(sandbox, engine) -> None:
    shop = next(c for c in _client(sandbox).list_connections() if c.platform == "SHOPIFY")
    windows = month_windows(three_months_back())
    orders = list(sandbox.truth(shop.id, "/orders"))
    start = threading.Barrier(len(windows) + 2)

    def backfill_window(window) -> None:
        client = _client(sandbox)
        start.wait()
        for endpoint in COMMERCE_LISTS:
            backfill(client=client, engine=engine, connection=shop, endpoint=endpoint, window=window)
        client.close()

    def pull_changes() -> None:
        client = _client(sandbox)
        start.wait()
        for endpoint in COMMERCE_LISTS:
            incremental(client=client, engine=engine, connection=shop, endpoint=endpoint)
        client.close()

    def change_objects() -> None:
        start.wait()
        for order in orders[:20]:
            sandbox.update(shop.id, "/orders", order["id"], {"status": "archived"})
        sandbox.create(shop.id, "/orders")

    with ThreadPoolExecutor(max_workers=len(windows) + 2) as pool:
        done = [pool.submit(backfill_window, window) for window in windows]
        done += [pool.submit(pull_changes), pool.submit(change_objects)]
        for future in done:
            future.result()  # re-raises a failure of any of them

    # Every backfill lowered the watermark to a point before its own start, which is before now.
    with engine.connect() as conn:
        watermark = sync_state.read_watermark(conn, connection_id=shop.id, stream=incremental_stream("orders"))
    assert watermark is not None and watermark < to_ms(datetime.now(UTC))

    # The next incremental pull brings what changed while the windows loaded: the warehouse equals the truth.
    client = _client(sandbox)
    for endpoint in COMMERCE_LISTS:
        incremental(client=client, engine=engine, connection=shop, endpoint=endpoint)
    client.close()
    for endpoint in COMMERCE_LISTS:
        assert_matches_truth(engine, sandbox, shop.id, endpoint)
    archived = {o["id"] for o in sandbox.truth(shop.id, "/orders") if o.get("status") == "archived"}
    assert {o["id"] for o in orders[:20]} <= archived


def test_concurrent_lowering_keeps_the_lowest_watermark(engine) -> None:
    """Many backfills lowering one watermark at once, the first ones racing to create it: the lowest stays."""
    candidates = [1_700_000_000_000 + step * 7_919 % 1_000 for step in range(24)]
    start = threading.Barrier(len(candidates))

    def lower(candidate: int) -> None:
        start.wait()
        with engine.begin() as tx:
            sync_state.lower_watermark(
                tx, connection_id="concurrent", stream="incremental:orders", watermark_ms=candidate
            )

    with ThreadPoolExecutor(max_workers=len(candidates)) as pool:
        list(pool.map(lower, candidates))
    with engine.connect() as conn:
        kept = sync_state.read_watermark(conn, connection_id="concurrent", stream="incremental:orders")
    assert kept == min(candidates)

    with engine.begin() as tx:  # never raised
        sync_state.lower_watermark(tx, connection_id="concurrent", stream="incremental:orders", watermark_ms=2**41)
    with engine.connect() as conn:
        assert sync_state.read_watermark(conn, connection_id="concurrent", stream="incremental:orders") == kept


def _client(sandbox) -> RutterClient:
    return RutterClient(base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET)
