"""The incremental jobs: pull what changed for one connection, then apply the deletions Rutter reports.

There is one job per family (`commerce_incremental_sync`, `accounting_incremental_sync`), partitioned by that
family's connections, so a job lists only connections it can pull; a connection of a platform this project does
not know is in both and gets both runs. Only the accounting job applies deletions: Rutter reports commerce
deletions through webhooks alone.

These are op jobs rather than materializations of the asset partitions, because an incremental pull does not
rebuild any partition: it merges the objects changed since the watermark, wherever they belong. A job records an
`AssetMaterialization` for exactly the (connection, month) partitions whose rows it wrote (the sync engine's
`months_touched`), with metadata `pull: incremental`, so each partition shows truthfully when its rows were
last written and by which kind of run.
"""

from __future__ import annotations

import dagster as dg

from rutter_pipeline import sync
from rutter_pipeline.defs.assets import asset_key
from rutter_pipeline.defs.jobs import PULL_TAG
from rutter_pipeline.defs.metadata import summary_metadata
from rutter_pipeline.defs.partitions import (
    FamilyGrids,
    NoPartitionChosen,
    connection_label,
    connection_partitions,
    month_keys,
    partition_key,
)
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.rutter.catalog import Endpoint, Family, WindowBy, endpoints_for
from rutter_pipeline.rutter.connections import Connection

INCREMENTAL_SUFFIX = "_incremental_sync"


def incremental_job_name(family: Family) -> str:
    """`commerce_incremental_sync` or `accounting_incremental_sync`."""
    return f"{family.value}{INCREMENTAL_SUFFIX}"


def partitions_written(summary: sync.SyncSummary, *, endpoint: Endpoint, months: list[str]) -> list[str]:
    """The month partitions whose rows a pull wrote, clamped to the partitions that exist.

    Months before the first partition belong to it (it takes everything older), months after the current one
    to the current one; endpoints without a time window keep all their rows in the first month.
    """
    if not summary.written:
        return []
    if endpoint.window_by is WindowBy.NONE:
        return [months[0]]
    return sorted({min(max(month, months[0]), months[-1]) for month in summary.months_touched})


def rows_per_partition(summary: sync.SyncSummary, *, endpoint: Endpoint, months: list[str]) -> dict[str, int]:
    """How many of the pull's written batches' objects belong to each month partition (clamped as above)."""
    if endpoint.window_by is WindowBy.NONE:
        return {months[0]: summary.written} if summary.written else {}
    rows: dict[str, int] = {}
    for month, count in summary.rows_by_month.items():
        partition = min(max(month, months[0]), months[-1])
        rows[partition] = rows.get(partition, 0) + count
    return rows


def incremental_job(
    family: Family,
    *,
    partitions_def: dg.MultiPartitionsDefinition,
    executor_def: dg.ExecutorDefinition = dg.in_process_executor,
) -> dg.JobDefinition:
    """The job that pulls one connection's changes to a family's endpoints; partitioned by the family's connections.

    Args:
        family: commerce or accounting.
        partitions_def: the family's (connection, month) grid, whose month partitions the pull's
            materializations are recorded on.
        executor_def: where the job's steps execute (in process, or on Celery workers).
    """

    @dg.op(name=f"pull_{family.value}_changes", out=dg.Out(dg.Nothing))
    def pull_changes(context, rutter: RutterResource, warehouse: WarehouseResource) -> None:  # noqa: ANN001 - Dagster rejects the string annotation `from __future__ import annotations` makes
        """Pull every endpoint's changes since its watermark for the run's connection."""
        if not context.has_partition_key:
            raise NoPartitionChosen(context.job_name, what="connection")
        connection = rutter.connection(context.partition_key)
        months = month_keys(partitions_def)
        for endpoint in endpoints_for(family):
            summary = sync.incremental(
                client=rutter.client, engine=warehouse.engine, connection=connection, endpoint=endpoint
            )
            context.log.info(f"incremental {endpoint.path}: {summary.as_dict()}")
            rows = rows_per_partition(summary, endpoint=endpoint, months=months)
            for month in partitions_written(summary, endpoint=endpoint, months=months):
                context.log_event(
                    _materialization(
                        summary, endpoint=endpoint, connection=connection, month=month, rows=rows.get(month, 0)
                    )
                )

    @dg.op(ins={"after": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing))
    def apply_deletions(context, rutter: RutterResource, warehouse: WarehouseResource) -> None:  # noqa: ANN001 - Dagster rejects the string annotation `from __future__ import annotations` makes
        """Mark the objects Rutter reports as deleted since the last pass."""
        connection = rutter.connection(context.partition_key)
        summary = sync.apply_deletes(client=rutter.client, engine=warehouse.engine, connection=connection)
        context.log.info(f"deletions: {summary.as_dict()}")

    @dg.job(
        name=incremental_job_name(family),
        partitions_def=connection_partitions(family),
        executor_def=executor_def,
        tags={PULL_TAG: "incremental"},
        description=f"Pull the changes of one {family.value} connection since its watermarks"
        + (", then its deletions." if family is Family.ACCOUNTING else "; deletions arrive by webhook."),
    )
    def _incremental() -> None:
        # Commerce deletions are reported only through webhooks, so the commerce job has no deletions step.
        if family is Family.ACCOUNTING:
            apply_deletions(after=pull_changes())
        else:
            pull_changes()

    return _incremental


def incremental_jobs(
    grids: FamilyGrids, *, executor_def: dg.ExecutorDefinition = dg.in_process_executor
) -> dict[Family, dg.JobDefinition]:
    """The incremental job of each family, its steps executed by `executor_def`."""
    return {
        family: incremental_job(family, partitions_def=grids[family], executor_def=executor_def) for family in Family
    }


def _materialization(
    summary: sync.SyncSummary, *, endpoint: Endpoint, connection: Connection, month: str, rows: int
) -> dg.AssetMaterialization:
    figures = summary_metadata(summary, pull="incremental")
    # This partition's own rows; the other figures are the whole pull's (and say so below).
    figures["dagster/row_count"] = dg.IntMetadataValue(rows)
    figures["connection"] = f"{connection_label(connection)} ({connection.id})"
    # The figures are for the whole pull; name the months it spread over so no partition claims them alone.
    figures["months written in this pull"] = ", ".join(sorted(summary.months_touched)) or month
    return dg.AssetMaterialization(
        asset_key=asset_key(endpoint),
        partition=partition_key(connection.id, month),
        description=f"Incremental pull wrote {summary.written} rows of {endpoint.path}.",
        metadata=figures,
    )
