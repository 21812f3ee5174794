"""Fixtures for the Dagster layer: a small sandbox, a temporary Dagster instance, resources bound to both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest

from rutter_pipeline.defs.partitions import FamilyGrids, connection_month_partitions
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox

NOW = datetime.now(UTC)


def _months_back(months: int):
    index = NOW.year * 12 + NOW.month - 1 - months
    return NOW.date().replace(year=index // 12, month=index % 12 + 1, day=1)


@pytest.fixture
def small_sandbox() -> Iterator[Sandbox]:
    """A sandbox with one small connection of each kind the Dagster layer must handle."""
    sandbox = Sandbox(seed=11, profile="empty")
    sandbox.add_connection("SHOPIFY", name="Small shop", orders=120, customers=30)
    sandbox.add_connection("QUICKBOOKS", name="Small books", invoices=60)
    sandbox.add_connection("AMAZON", name="Not ready yet", ready=False)
    sandbox.add_connection("NETSUITE", name="Needs login", needs_update=True)
    with sandbox:
        yield sandbox


@pytest.fixture
def grids() -> FamilyGrids:
    """Each family's grid of three month partitions: the first one also takes the sandbox's older history."""
    return connection_month_partitions(_months_back(2))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A throwaway Dagster instance."""
    with dg.instance_for_test() as temporary:
        yield temporary


@pytest.fixture
def rutter(small_sandbox: Sandbox) -> RutterResource:
    """The Rutter resource pointed at the small sandbox."""
    return RutterResource(
        client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, base_url=small_sandbox.base_url
    )


@pytest.fixture
def warehouse(postgres_url: str) -> WarehouseResource:
    """The warehouse resource on a fresh PostgreSQL database."""
    return WarehouseResource(url=postgres_url)
