"""Data checks on the raw tables: no duplicate ids, an empty quarantine, fresh watermarks.

All checks of all endpoints run in one op over one database connection, so checking 26 tables costs one run.
The op can be subset: a run from an asset page (one asset and its checks, for chosen partitions) runs just the
selected checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.assets import asset_key
from rutter_pipeline.defs.resources import WarehouseResource
from rutter_pipeline.rutter.catalog import ENDPOINTS, Endpoint
from rutter_pipeline.sync.watermarks import incremental_stream
from rutter_pipeline.warehouse.tables import quarantine, raw_table, sync_state

CHECKS_JOB = "rutter_checks"
NO_DUPLICATES = "no_duplicate_ids"
QUARANTINE_EMPTY = "quarantine_empty"
WATERMARK_FRESH = "watermark_fresh"

_DESCRIPTIONS = {
    NO_DUPLICATES: "No id appears twice, and no platform object appears twice within one connection.",
    QUARANTINE_EMPTY: "No object of this endpoint was set aside in rutter._quarantine.",
    WATERMARK_FRESH: "Every connection with rows here had an incremental pull recently (RUTTER_FRESHNESS_HOURS).",
}


def check_specs() -> list[dg.AssetCheckSpec]:
    """The three checks of every Rutter asset."""
    return [
        dg.AssetCheckSpec(name, asset=asset_key(endpoint), description=text)
        for endpoint in ENDPOINTS
        for name, text in _DESCRIPTIONS.items()
    ]


def rutter_checks(*, freshness_hours: int) -> dg.AssetChecksDefinition:
    """The checks, with watermarks older than `freshness_hours` reported as stale."""

    run_check = {
        NO_DUPLICATES: duplicates,
        QUARANTINE_EMPTY: quarantined,
        WATERMARK_FRESH: lambda conn, endpoint: freshness(
            conn, endpoint, oldest_allowed=datetime.now(UTC) - timedelta(hours=freshness_hours)
        ),
    }
    endpoints = {asset_key(endpoint): endpoint for endpoint in ENDPOINTS}

    @dg.multi_asset_check(specs=check_specs(), name="rutter_table_checks", can_subset=True)
    def _checks(context, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:  # noqa: ANN001 - Dagster rejects the string annotation `from __future__ import annotations` makes
        selected = sorted(context.selected_asset_check_keys, key=lambda k: (k.asset_key.path, k.name))
        with warehouse.engine.connect() as conn:
            for key in selected:
                yield run_check[key.name](conn, endpoints[key.asset_key])

    return _checks


def checks_job() -> dg.UnresolvedAssetJobDefinition:
    """A job running every Rutter check (after `rutter-pipeline sync`, or from the UI)."""
    keys = [dg.AssetCheckKey(spec.asset_key, spec.name) for spec in check_specs()]
    return dg.define_asset_job(
        CHECKS_JOB,
        selection=dg.AssetSelection.checks(*keys),
        executor_def=dg.in_process_executor,
        description="Check every Rutter table: duplicates, quarantine, freshness.",
    )


def duplicates(conn: sa.Connection, endpoint: Endpoint) -> dg.AssetCheckResult:
    """Ids that occur twice, and live platform ids that occur twice in one connection."""
    table = raw_table(endpoint)
    twice_id = sa.select(table.c.id).group_by(table.c.id).having(sa.func.count() > 1).subquery()
    twice_platform = (
        sa.select(table.c.connection_id, table.c.platform_id)
        .where(table.c.platform_id.is_not(None), table.c._deleted_at.is_(None))
        .group_by(table.c.connection_id, table.c.platform_id)
        .having(sa.func.count() > 1)
        .subquery()
    )
    ids = conn.execute(sa.select(sa.func.count()).select_from(twice_id)).scalar_one()
    platform_ids = conn.execute(sa.select(sa.func.count()).select_from(twice_platform)).scalar_one()
    return dg.AssetCheckResult(
        asset_key=asset_key(endpoint),
        check_name=NO_DUPLICATES,
        passed=ids == 0 and platform_ids == 0,
        metadata={"duplicate ids": ids, "duplicate platform ids": platform_ids},
    )


def quarantined(conn: sa.Connection, endpoint: Endpoint) -> dg.AssetCheckResult:
    """Objects of the endpoint waiting in quarantine."""
    count = conn.execute(
        sa.select(sa.func.count()).select_from(quarantine).where(quarantine.c.endpoint == endpoint.name)
    ).scalar_one()
    return dg.AssetCheckResult(
        asset_key=asset_key(endpoint),
        check_name=QUARANTINE_EMPTY,
        passed=count == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"quarantined rows": count},
    )


def freshness(conn: sa.Connection, endpoint: Endpoint, *, oldest_allowed: datetime) -> dg.AssetCheckResult:
    """Connections with rows in the table whose incremental watermark is missing or older than allowed."""
    table = raw_table(endpoint)
    connections = sa.select(table.c.connection_id).distinct().subquery()
    pulled = sa.select(connections.c.connection_id, sync_state.c.updated_at).select_from(
        connections.outerjoin(
            sync_state,
            sa.and_(
                sync_state.c.connection_id == connections.c.connection_id,
                sync_state.c.stream == incremental_stream(endpoint.name),
            ),
        )
    )
    stale: list[str] = sorted(
        row.connection_id
        for row in conn.execute(pulled)
        if row.updated_at is None or _utc(row.updated_at) < oldest_allowed
    )
    return dg.AssetCheckResult(
        asset_key=asset_key(endpoint),
        check_name=WATERMARK_FRESH,
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"stale connections": ", ".join(stale) or "none", "oldest allowed": oldest_allowed.isoformat()},
    )


def _utc(moment: datetime) -> datetime:
    # MySQL returns naive DATETIMEs that hold UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
