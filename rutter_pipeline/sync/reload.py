"""Load quarantined rows again, once what refused them is fixed (a constraint removed, a column widened)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa

from rutter_pipeline.rutter.catalog import get
from rutter_pipeline.warehouse.loader import load_batch
from rutter_pipeline.warehouse.tables import quarantine


@dataclass
class ReloadSummary:
    """What `reload_quarantine` did: rows tried, loaded, and quarantined again (with their new reason)."""

    tried: int = 0
    loaded: int = 0
    quarantined_again: int = 0


def reload_quarantine(engine: sa.Engine, *, connection_id: str | None = None) -> ReloadSummary:
    """Merge every quarantined object (of one connection, when given) again, one endpoint at a time.

    Each (connection, endpoint) group is taken out of `_quarantine` and merged in one transaction: an object
    that is refused again goes back with its new reason, one that loads leaves the quarantine. The usual merge
    rules hold, so an old quarantined version never overwrites a newer row.
    """
    summary = ReloadSummary()
    groups = sa.select(quarantine.c.connection_id, quarantine.c.endpoint).distinct()
    if connection_id is not None:
        groups = groups.where(quarantine.c.connection_id == connection_id)
    with engine.connect() as conn:
        pairs: list[tuple[str, str]] = [(row.connection_id, row.endpoint) for row in conn.execute(groups)]
    for group_connection, endpoint_name in pairs:
        endpoint = get(endpoint_name)
        where = sa.and_(quarantine.c.connection_id == group_connection, quarantine.c.endpoint == endpoint_name)
        with engine.begin() as tx:
            rows = tx.execute(sa.select(quarantine.c.id, quarantine.c.payload).where(where)).all()
            objects, ids = [], []
            for row in rows:
                try:
                    objects.append(json.loads(row.payload))
                    ids.append(row.id)
                except ValueError:
                    continue  # not JSON: kept as it is, nothing could load it
            if not ids:
                continue
            tx.execute(sa.delete(quarantine).where(quarantine.c.id.in_(ids)))
            result = load_batch(tx, endpoint=endpoint, connection_id=group_connection, objects=objects)
        summary.tried += len(ids)
        summary.quarantined_again += result.quarantined
        summary.loaded += len(ids) - result.quarantined
    return summary
