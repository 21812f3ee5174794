"""One Dagster asset per Rutter endpoint, built from the catalog.

An asset partition is one connection's objects in one calendar month; materializing it backfills that window
through the sync engine. The endpoints of one family are materialized by one op (a multi-asset that can be
subset), because a run is one connection-month of up to 20 small endpoints, and a step per endpoint would cost
Dagster more bookkeeping than the sync itself. The functions only orchestrate: how a page of orders reaches the
database is in `rutter_pipeline.sync` and `rutter_pipeline.warehouse`.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from rutter_pipeline import sync
from rutter_pipeline.defs import metadata
from rutter_pipeline.defs.partitions import ConnectionMonth, FamilyGrids, NoPartitionChosen, connection_label, resolve
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.rutter.catalog import Endpoint, Family, WindowBy, endpoints_for
from rutter_pipeline.rutter.connections import Connection

OWNERS = ["team:data-platform"]

_WINDOWS = {
    WindowBy.CREATED_AT: "Each month partition holds the objects created in that month (`created_at_min/max`).",
    WindowBy.CREATED_AT_SORTED: "Each month partition holds the objects created in that month (`filter` on "
    "`created_at`, sorted ascending); objects without a `created_at` are in the first month.",
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
        f"Rutter `{endpoint.path}` copied into table `rutter.{endpoint.name}`, one partition per "
        f"{endpoint.family.value} connection and month. {_WINDOWS[endpoint.window_by]} The first month also "
        "takes everything older and the current month everything up to now. Incremental pulls are recorded on "
        "the month partitions they wrote, with metadata `pull: incremental`. Partitions are named by Rutter's "
        "connection id; which platform and shop that is: each materialization's `connection` metadata, the runs' "
        "tag `rutter/connection_name`, the Backfills page's titles, or the table `rutter._connections`."
    )


def asset_spec(endpoint: Endpoint, *, partitions_def: dg.MultiPartitionsDefinition) -> dg.AssetSpec:
    """How one endpoint appears in the asset graph."""
    return dg.AssetSpec(
        key=asset_key(endpoint),
        description=description(endpoint),
        group_name=group_name(endpoint.family),
        partitions_def=partitions_def,
        kinds={"rutter", "postgres"},
        owners=OWNERS,
        tags={"rutter/family": endpoint.family.value},
        metadata={"table": f"rutter.{endpoint.name}", "path": endpoint.path},
        skippable=True,
    )


def family_assets(family: Family, *, partitions_def: dg.MultiPartitionsDefinition) -> dg.AssetsDefinition:
    """The assets of one family's endpoints, backfilled for one (connection, month) partition per run.

    Args:
        family: commerce or accounting.
        partitions_def: the family's (connection, month) grid.
    """
    endpoints = {asset_key(e): e for e in endpoints_for(family)}

    @dg.multi_asset(
        name=f"rutter_{family.value}_backfill",
        specs=[asset_spec(e, partitions_def=partitions_def) for e in endpoints.values()],
        partitions_def=partitions_def,
        can_subset=True,
    )
    def _backfill(context, rutter: RutterResource, warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:  # noqa: ANN001 - Dagster rejects the string annotation `from __future__ import annotations` makes
        if not (context.has_partition_key or context.has_partition_key_range):
            raise NoPartitionChosen(context.job_name, what="connection and month")
        # A run covers one partition (the UI, `sync`) or a range of one connection's months (the sensor): a
        # range run records each month's materialization as soon as it is written, so the partitions it
        # finished show as materialized even when a later month fails.
        single = context.has_partition_key
        partitions = [context.partition_key] if single else context.partition_keys
        failed = []
        for partition in partitions:
            target = resolve(partition, partitions=partitions_def)
            connection = rutter.connection(target.connection_id)
            for key in sorted(context.selected_asset_keys, key=lambda k: k.path):
                try:
                    result = backfill_endpoint(
                        endpoints[key],
                        rutter=rutter,
                        warehouse=warehouse,
                        connection=connection,
                        target=target,
                        # The preview and health describe the connection, not the month: once per run is enough.
                        describe=partition == partitions[-1],
                    )
                except Exception as exc:  # noqa: BLE001 - one endpoint's failure must not hide the others' results
                    context.log.error(f"{endpoints[key].path} {target.month} of {connection.id} failed: {exc!r}")
                    failed.append(f"{endpoints[key].path} {target.month}")
                    continue
                if single:
                    yield result
                else:
                    context.log_event(
                        dg.AssetMaterialization(asset_key=key, partition=str(partition), metadata=result.metadata)
                    )
        if failed:
            raise dg.Failure(f"backfill failed for {', '.join(failed)}; see the log above")

    return _backfill


def backfill_endpoint(
    endpoint: Endpoint,
    *,
    rutter: RutterResource,
    warehouse: WarehouseResource,
    connection: Connection,
    target: ConnectionMonth,
    describe: bool = True,
) -> dg.MaterializeResult:
    """Backfill one endpoint's window and describe it for the UI (with `describe`, also the connection's health
    and a preview of its latest rows: two queries, left out of all but the last month of a range run)."""
    summary = sync.backfill(
        client=rutter.client,
        engine=warehouse.engine,
        connection=connection,
        endpoint=endpoint,
        window=target.window,
        month=target.month,
    )
    figures = metadata.summary_metadata(summary, pull="backfill")
    figures["connection"] = f"{connection_label(connection)} ({connection.id})"
    figures["window"] = str(target.window)
    if describe:
        figures["connection health"] = metadata.connection_health(warehouse.engine, connection.id)
    if describe and summary.status == "ok":
        figures["preview"] = metadata.preview(warehouse.engine, endpoint=endpoint, connection_id=connection.id)
    return dg.MaterializeResult(asset_key=asset_key(endpoint), metadata=figures)


def rutter_assets(grids: FamilyGrids) -> list[dg.AssetsDefinition]:
    """Every endpoint of the catalog as an asset, grouped by family, each family on its own grid."""
    return [family_assets(family, partitions_def=grids[family]) for family in Family]
