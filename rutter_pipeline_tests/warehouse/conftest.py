"""Helpers for the warehouse tests (the migrated `engine` fixture is shared: fixtures/databases.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.warehouse.tables import quarantine, raw_table


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
