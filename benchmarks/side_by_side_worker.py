"""The baselines of test_throughput_side_by_side.py, each a short script run in a process of its own.

`BENCH_MODE` picks one; each pulls every order of one sandbox connection and prints `{"rows": ...,
"peak_rss_mib": ...}` as JSON:
- `fetch`: every page, parsed (the cursor is in the body), nothing else;
- `copy`: the same, plus one `COPY` per page of each object as received into an `(id, data jsonb)` table, the
  least work that lands the data (the floor);
- `naive`: what a first script does, one `INSERT … ON CONFLICT` per order, stdlib `json`, a commit per page;
- `dlt`: dlt's `rest_api` source into its postgres destination, merged on `id`, default nesting.

Configured by `BENCH_SERVER` (the sandbox's root URL), `BENCH_ACCESS_TOKEN` (the connection's) and
`BENCH_DATABASE_URL` (a plain `postgresql://` URL) for all but `fetch`.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from urllib.parse import urlsplit

import orjson
import requests
from sync_worker import peak_rss_mib

from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

API_VERSION = "2024-08-31"
PAGE = 500
COPY_TABLE = "orders_raw"
NAIVE_TABLE = "orders_naive"
DLT_DATASET = "rutter_dlt"
BACKSLASH = "\\"


def pages(server: str, token: str) -> Iterator[list[dict]]:
    """Every page of the connection's orders, oldest cursor first, as parsed objects."""
    with requests.Session() as session:
        session.auth = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        session.headers["X-Rutter-Version"] = API_VERSION
        params: dict[str, str | int] = {"access_token": token, "limit": PAGE}
        while True:
            reply = session.get(f"{server}/versioned/orders", params=params, timeout=120)
            reply.raise_for_status()
            body = orjson.loads(reply.content)
            yield body["orders"]
            if not body.get("next_cursor"):
                return
            params = {"access_token": token, "limit": PAGE, "cursor": body["next_cursor"]}


def jsonb_text(text: str) -> str:
    """JSON text PostgreSQL's jsonb accepts: it refuses `\\u0000`, which the sandbox sends (as Rutter may)."""
    return text.replace("\\u0000", "\\ufffd")


def fetch(server: str, token: str) -> int:
    return sum(len(page) for page in pages(server, token))


def copy(server: str, token: str, database_url: str) -> int:
    import psycopg2

    with psycopg2.connect(database_url) as db, db.cursor() as cursor:
        cursor.execute(f"create table {COPY_TABLE} (id text primary key, data jsonb not null)")
        db.commit()
        for page in pages(server, token):
            # COPY's text format: a tab between the columns, backslashes doubled (JSON text has no raw tab/newline).
            texts = ((obj["id"], jsonb_text(orjson.dumps(obj).decode())) for obj in page)
            lines = "".join(f"{id_}\t{text.replace(BACKSLASH, BACKSLASH * 2)}\n" for id_, text in texts)
            cursor.copy_expert(f"copy {COPY_TABLE} (id, data) from stdin", io.StringIO(lines))
            db.commit()
        cursor.execute(f"select count(*) from {COPY_TABLE}")
        return cursor.fetchone()[0]


def naive(server: str, token: str, database_url: str) -> int:
    import psycopg2

    with psycopg2.connect(database_url) as db, db.cursor() as cursor:
        cursor.execute(f"create table {NAIVE_TABLE} (id text primary key, updated_at timestamptz, data jsonb)")
        db.commit()
        for page in pages(server, token):
            for obj in page:
                cursor.execute(
                    f"insert into {NAIVE_TABLE} (id, updated_at, data) values (%s, %s, %s) on conflict (id) do "
                    "update set updated_at = excluded.updated_at, data = excluded.data",
                    (obj["id"], obj.get("updated_at"), jsonb_text(json.dumps(obj))),
                )
            db.commit()
        cursor.execute(f"select count(*) from {NAIVE_TABLE}")
        return cursor.fetchone()[0]


def with_dlt(server: str, token: str, database_url: str) -> int:
    import dlt
    import psycopg2
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {
                "base_url": f"{server}/versioned/",
                "auth": {"type": "http_basic", "username": DEFAULT_CLIENT_ID, "password": DEFAULT_CLIENT_SECRET},
                "headers": {"X-Rutter-Version": API_VERSION},
                "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"},
            },
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
            "resources": [
                {
                    "name": "orders",
                    "endpoint": {
                        "path": "orders",
                        "params": {"access_token": token, "limit": PAGE},
                        "data_selector": "orders",
                    },
                }
            ],
        }
    )
    # dlt insists on a password; a server that trusts local connections ignores it.
    credentials = database_url if urlsplit(database_url).password else database_url.replace("@", ":unused@", 1)
    with tempfile.TemporaryDirectory() as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name="rutter_orders",
            pipelines_dir=pipelines_dir,
            destination=dlt.destinations.postgres(credentials=credentials),
            dataset_name=DLT_DATASET,
        )
        pipeline.run(source).raise_on_failed_jobs()
    with psycopg2.connect(database_url) as db, db.cursor() as cursor:
        cursor.execute(f"select count(*) from {DLT_DATASET}.orders")
        return cursor.fetchone()[0]


def main() -> None:
    mode, server, token = os.environ["BENCH_MODE"], os.environ["BENCH_SERVER"], os.environ["BENCH_ACCESS_TOKEN"]
    if mode == "fetch":
        rows = fetch(server, token)
    else:
        loader = {"copy": copy, "naive": naive, "dlt": with_dlt}[mode]
        rows = loader(server, token, os.environ["BENCH_DATABASE_URL"])
    json.dump({"rows": rows, "peak_rss_mib": peak_rss_mib()}, sys.stdout)


if __name__ == "__main__":
    main()
