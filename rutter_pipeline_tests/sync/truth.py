"""Compare the warehouse with the sandbox's ground truth."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rutter_pipeline.rutter.catalog import Endpoint
from rutter_pipeline.sandbox import Sandbox
from rutter_pipeline.warehouse.rows import strip_nuls
from rutter_pipeline.warehouse.tables import raw_table


def stored_rows(engine: Engine, endpoint: Endpoint, connection_id: str, *, live: bool = True) -> dict[str, dict]:
    """id → data of the rows of one connection (live rows, or deleted rows with live=False)."""
    table = raw_table(endpoint)
    deleted = table.c._deleted_at.is_(None) if live else table.c._deleted_at.is_not(None)
    query = sa.select(table.c.id, table.c.data).where(table.c.connection_id == connection_id, deleted)
    with engine.connect() as db:
        rows = db.execute(query).all()
    return {row.id: row.data if isinstance(row.data, dict) else json.loads(row.data) for row in rows}


def assert_matches_truth(engine: Engine, sandbox: Sandbox, connection_id: str, endpoint: Endpoint) -> int:
    """The live rows equal the sandbox's live objects exactly; returns how many there are."""
    truth = {obj["id"]: strip_nuls(obj)[0] for obj in sandbox.truth(connection_id, endpoint.path)}
    stored = stored_rows(engine, endpoint, connection_id)
    missing = truth.keys() - stored.keys()
    extra = stored.keys() - truth.keys()
    assert not missing, f"{endpoint.name}: {len(missing)} objects missing, e.g. {sorted(missing)[:3]}"
    assert not extra, f"{endpoint.name}: {len(extra)} rows not in the sandbox, e.g. {sorted(extra)[:3]}"
    different = [key for key in truth if truth[key] != stored[key]]
    assert not different, f"{endpoint.name}: {len(different)} rows differ, e.g. {different[:1]}"
    return len(truth)
