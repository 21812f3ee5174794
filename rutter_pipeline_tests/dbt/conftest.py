"""A PostgreSQL warehouse loaded with the default sandbox's data and built with `dbt build`, shared by a module."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter import catalog
from rutter_pipeline.rutter.catalog import Family, Kind
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.platforms import family_of
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.warehouse.connections import record_connections
from rutter_pipeline.warehouse.deletions import mark_deleted
from rutter_pipeline.warehouse.engine import warehouse_engine
from rutter_pipeline.warehouse.loader import load_batch
from rutter_pipeline.warehouse.schema import upgrade
from rutter_pipeline_tests.fixtures.databases import POSTGRES_SERVER, _fresh_database
from rutter_pipeline_tests.fixtures.processes import run_dbt

#: The sandbox generates its data relative to this day; the marts are computed as of the same day.
SANDBOX_NOW = datetime(2025, 6, 15, tzinfo=UTC)
AS_OF = SANDBOX_NOW.date()


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse after `dbt build`: where it is, what was loaded, and how the build went."""

    engine: sa.Engine
    connections: list[dict]
    deleted_order_id: str
    returncode: int
    output: str
    run_results: dict
    seconds: float


def _load_lists(engine: sa.Engine, sandbox: Sandbox, connection: dict) -> None:
    family = family_of(connection["platform"])
    for endpoint in catalog.endpoints_for(family):
        if endpoint.kind is Kind.REPORT:
            continue
        objects = list(sandbox.truth(connection["id"], endpoint.path))
        with engine.begin() as conn:
            load_batch(conn, endpoint=endpoint, connection_id=connection["id"], objects=objects)


def _load_statements(engine: sa.Engine, client: RutterClient, connection: dict) -> None:
    """Monthly statements over the last two years, fetched over HTTP as the sync engine would."""
    start = (AS_OF.replace(day=1) - timedelta(days=730)).replace(day=1)
    for endpoint in catalog.endpoints_for(Family.ACCOUNTING):
        if endpoint.kind is not Kind.REPORT:
            continue
        reports = client.get_reports(
            endpoint, access_token=connection["access_token"], start_date=start, end_date=AS_OF
        )
        with engine.begin() as conn:
            load_batch(conn, endpoint=endpoint, connection_id=connection["id"], objects=reports)


def _record_connections(engine: sa.Engine, client: RutterClient) -> None:
    """`_connections` as a survey records it: every connection with its status."""
    seen = client.list_connections()
    statuses = {c.id: client.connection_status(c.access_token) for c in seen}
    with engine.begin() as conn:
        record_connections(conn, seen=seen, statuses=statuses)


def _delete_one_refunded_order(engine: sa.Engine, connection_id: str) -> str:
    """Soft-delete an order the marts would otherwise count, so the test can check staging drops it."""
    with engine.begin() as conn:
        order_id = conn.execute(
            sa.text(
                "select id from rutter.orders where connection_id = :c and jsonb_array_length(data->'refunds') > 0 "
                "and status <> 'cancelled' order by id limit 1"
            ),
            {"c": connection_id},
        ).scalar_one()
        mark_deleted(
            conn, endpoint=catalog.get("orders"), connection_id=connection_id, deletions=[(order_id, datetime.now(UTC))]
        )
    return order_id


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """The default sandbox's data (every connection, ready or not) loaded and built with dbt as of AS_OF."""
    for url in _fresh_database(POSTGRES_SERVER, "postgres", mysql=False):
        engine = warehouse_engine(url)  # the warehouse driver (psycopg 3), as the pipeline opens it
        upgrade(engine)
        with Sandbox(seed=7, now=SANDBOX_NOW, rate_limit=None) as sandbox:
            client = RutterClient(
                base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET
            )
            connections = sandbox.connections()
            _record_connections(engine, client)
            for connection in connections:
                _load_lists(engine, sandbox, connection)
                ready = connection["status"] not in ("not_ready", "needs_reauth")
                if family_of(connection["platform"]) is Family.ACCOUNTING and ready:
                    _load_statements(engine, client, connection)
            client.close()
        shopify = next(c for c in connections if c["platform"] == "SHOPIFY")
        deleted = _delete_one_refunded_order(engine, shopify["id"])
        target = tmp_path_factory.mktemp("dbt-target")
        started = time.monotonic()
        result = run_dbt(url, ["build", "--vars", json.dumps({"as_of_date": AS_OF.isoformat()})], target=target)
        seconds = time.monotonic() - started
        run_results = json.loads((target / "run_results.json").read_text()) if result.returncode == 0 else {}
        yield BuiltWarehouse(
            engine=engine,
            connections=connections,
            deleted_order_id=deleted,
            returncode=result.returncode,
            output=result.stdout + result.stderr,
            run_results=run_results,
            seconds=seconds,
        )
        engine.dispose()


@pytest.fixture(scope="module")
def as_of() -> date:
    """The date the marts were built as of."""
    return AS_OF
