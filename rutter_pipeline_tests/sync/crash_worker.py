"""A sync run in its own process, for tests that kill it midway. Configured by environment variables."""

from __future__ import annotations

import os

from rutter_pipeline.app.runtime import rutter_client
from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.rutter.windows import Window
from rutter_pipeline.settings import process_settings
from rutter_pipeline.sync import backfill, incremental
from rutter_pipeline.warehouse.engine import warehouse_engine


def main() -> None:
    client = rutter_client(process_settings())
    engine = warehouse_engine(os.environ["WAREHOUSE_URL"])
    endpoint = get(os.environ["CRASH_ENDPOINT"])
    connection = next(c for c in client.list_connections() if c.id == os.environ["CRASH_CONNECTION_ID"])
    batch_size = int(os.environ["CRASH_BATCH_SIZE"])
    if os.environ["CRASH_MODE"] == "backfill":
        backfill(
            client=client,
            engine=engine,
            connection=connection,
            endpoint=endpoint,
            window=Window(None, None),
            batch_size=batch_size,
        )
    else:
        incremental(client=client, engine=engine, connection=connection, endpoint=endpoint, batch_size=batch_size)


if __name__ == "__main__":
    main()
