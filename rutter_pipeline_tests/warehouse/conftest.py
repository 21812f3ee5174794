"""Fixtures for the warehouse tests: a migrated database on PostgreSQL and on MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.warehouse import schema
from rutter_pipeline.warehouse.engine import warehouse_engine
from rutter_pipeline.warehouse.tables import quarantine, raw_table


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[sa.Engine]:
    """An engine on a fresh database (PostgreSQL, then MariaDB) brought to the current schema."""
    engine = warehouse_engine(warehouse_url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def stored(engine: sa.Engine, endpoint: Endpoint) -> dict[str, Any]:
    """Every row of an endpoint's table by id."""
    table = raw_table(endpoint)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table)).mappings().all()
    return {row["id"]: dict(row) for row in rows}


def quarantined(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every quarantine row, oldest first."""
    with engine.connect() as conn:
        query = sa.select(quarantine).order_by(quarantine.c.id)
        return [dict(row) for row in conn.execute(query).mappings()]
