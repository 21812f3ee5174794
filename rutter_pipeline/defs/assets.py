"""One Dagster asset per Rutter endpoint, built from the catalog.

An asset partition is one connection's objects in one calendar month; materializing it backfills that window
through the sync engine. The asset functions only orchestrate: how a page of orders reaches the database is in
`rutter_pipeline.sync` and `rutter_pipeline.warehouse`.
"""

from __future__ import annotations

import dagster as dg

from rutter_pipeline import sync
from rutter_pipeline.defs import metadata
from rutter_pipeline.defs.partitions import resolve
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.rutter.catalog import ENDPOINTS, Endpoint, Family, WindowBy

OWNERS = ["team:data-platform"]

_WINDOWS = {
    WindowBy.CREATED_AT: "Each month partition holds the objects created in that month (`created_at_min/max`).",
    WindowBy.LAST_SYNCED_AT: "Each month partition holds the objects Rutter last synced in that month "
    "(`last_synced_at_min`, sorted ascending), because accounting objects may have no `created_at`.",
    WindowBy.PERIOD: "Each month partition holds the statement for that calendar month.",
    WindowBy.NONE: "Rutter offers no time filter here, so the first month partition holds every object and the "
    "others stay empty.",
}


def asset_key(endpoint: Endpoint) -> dg.AssetKey:
    """`rutter/<family>/<object>`, e.g. `rutter/accounting/invoices`."""
    return dg.AssetKey(["rutter", endpoint.family.value, endpoint.object_name])


def group_name(family: Family) -> str:
    """The asset group of a family's endpoints."""
    return f"rutter_{family.value}"


def description(endpoint: Endpoint) -> str:
    """The asset's description in the UI."""
    return (
        f"Rutter `{endpoint.path}` copied into table `rutter.{endpoint.name}`, one partition per connection and "
        f"month. {_WINDOWS[endpoint.window_by]} The first month also takes everything older and the current month "
        "everything up to now. Incremental pulls and deletions are recorded on the month partitions they wrote, "
        "with metadata `pull: incremental`."
    )


def rutter_asset(endpoint: Endpoint, *, partitions_def: dg.MultiPartitionsDefinition) -> dg.AssetsDefinition:
    """The asset that backfills one endpoint, one (connection, month) partition per run.

    Args:
        endpoint: the catalog entry.
        partitions_def: the (connection, month) grid.
    """

    @dg.asset(
        key=asset_key(endpoint),
        description=description(endpoint),
        group_name=group_name(endpoint.family),
        partitions_def=partitions_def,
        kinds={"rutter", "postgres"},
        owners=OWNERS,
        tags={"rutter/family": endpoint.family.value},
        metadata={"table": f"rutter.{endpoint.name}", "path": endpoint.path},
    )
    def _backfill(
        context, rutter: RutterResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        target = resolve(context.partition_key, partitions=partitions_def)
        connection = rutter.connection(target.connection_id)
        summary = sync.backfill(
            client=rutter.client,
            engine=warehouse.engine,
            connection=connection,
            endpoint=endpoint,
            window=target.window,
        )
        context.log.info(f"{endpoint.path} {target.month} of {connection.id}: {summary.as_dict()}")
        figures = metadata.summary_metadata(summary, pull="backfill")
        figures["window"] = str(target.window)
        if summary.status == "ok":
            figures["preview"] = metadata.preview(warehouse.engine, endpoint=endpoint, connection_id=connection.id)
        return dg.MaterializeResult(metadata=figures)

    return _backfill


def rutter_assets(partitions_def: dg.MultiPartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every endpoint of the catalog as an asset."""
    return [rutter_asset(endpoint, partitions_def=partitions_def) for endpoint in ENDPOINTS]
