"""Fixtures for sync tests: a client on the sandbox and a migrated warehouse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.warehouse.engine import warehouse_engine
from rutter_pipeline.warehouse.schema import upgrade


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[RutterClient]:
    """A client talking to the function-scoped sandbox."""
    rutter = RutterClient(base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID,
                          client_secret=DEFAULT_CLIENT_SECRET)
    yield rutter
    rutter.close()


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[Engine]:
    """A migrated warehouse, once on PostgreSQL and once on MariaDB."""
    db = warehouse_engine(warehouse_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL warehouse."""
    db = warehouse_engine(postgres_url)
    upgrade(db)
    yield db
    db.dispose()
