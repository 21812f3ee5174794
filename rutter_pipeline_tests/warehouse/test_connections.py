"""The connections table keeps platform and health, refreshed on every sighting, never the token."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from rutter_pipeline.rutter.connections import Connection, ConnectionStatus
from rutter_pipeline.warehouse import schema, warehouse_engine
from rutter_pipeline.warehouse.connections import record_connections
from rutter_pipeline.warehouse.tables import connections

SHOP = Connection(
    id="c-shop",
    access_token="tok-secret-1",
    platform="SHOPIFY",
    status="active",
    name="Shop",
    created_at=datetime(2024, 1, 2, tzinfo=UTC),
    updated_at=None,
)


def status(*, ready: bool) -> ConnectionStatus:
    return ConnectionStatus(
        is_ready=ready,
        is_healthy=True,
        needs_update=False,
        is_disabled=False,
        disabled_reason=None,
        last_sync_completed_at=None,
        platform="SHOPIFY",
    )


def rows(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as db:
        return db.execute(sa.select(connections)).all()


def test_connections_are_recorded_and_refreshed_without_tokens(warehouse_url):
    engine = warehouse_engine(warehouse_url)
    schema.upgrade(engine)
    with engine.begin() as tx:
        record_connections(tx, seen=[SHOP], statuses={SHOP.id: status(ready=False)})
    [first] = rows(engine)
    assert (first.platform, first.family, first.is_ready) == ("SHOPIFY", "commerce", False)

    with engine.begin() as tx:
        record_connections(tx, seen=[SHOP], statuses={SHOP.id: status(ready=True)})
    with engine.begin() as tx:
        record_connections(tx, seen=[SHOP])  # no status this time: the last known one stays
    [second] = rows(engine)
    assert second.is_ready is True or second.is_ready == 1
    assert second.first_seen_at == first.first_seen_at and second.last_seen_at >= first.last_seen_at
    assert "tok-secret-1" not in repr(second)
    engine.dispose()
