"""Backfill given windows of one connection's orders in a process of its own; prints the totals as JSON.

Used by test_sync_throughput.py so that each measured pull has its own process (peak RSS per pull, and
parallel windows that do not share one interpreter lock). Configured by environment variables.
"""

from __future__ import annotations

import json
import os
import sys

from rutter_pipeline.app.runtime import rutter_client
from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.settings import process_settings
from rutter_pipeline.sync import backfill, incremental
from rutter_pipeline.warehouse.engine import warehouse_engine


def main() -> None:
    client = rutter_client(process_settings())
    engine = warehouse_engine(os.environ["WAREHOUSE_URL"])
    connection = next(c for c in client.list_connections() if c.id == os.environ["BENCH_CONNECTION_ID"])
    orders = get("orders")
    totals = {"fetched": 0, "inserted": 0, "updated": 0, "pages": 0, "seconds": 0.0}
    if os.environ.get("BENCH_MODE") == "incremental":
        summaries = [incremental(client=client, engine=engine, connection=connection, endpoint=orders)]
    else:
        windows = [Window(start, end) for start, end in json.loads(os.environ["BENCH_WINDOWS"])]
        summaries = [
            backfill(client=client, engine=engine, connection=connection, endpoint=orders, window=w) for w in windows
        ]
    for summary in summaries:
        for key in totals:
            totals[key] += getattr(summary, key)
    totals["peak_rss_mib"] = peak_rss_mib()
    json.dump(totals, sys.stdout)


def peak_rss_mib() -> float:
    """This process's peak RSS since it started its program.

    VmHWM belongs to the process's own address space; getrusage's maximum would also count the memory of the
    parent it was forked from, before exec.
    """
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


if __name__ == "__main__":
    main()
