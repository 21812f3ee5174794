"""The incremental jobs: pull what changed for connections, then apply the deletions Rutter reports.

There is one job per family (`commerce_incremental_sync`, `accounting_incremental_sync`), partitioned by that
family's connections, so a job lists only connections it can pull; a connection of a platform this project does
not know is in both and gets both runs. A run pulls its partition's connection, or a batch of connections named
in its config (the schedules' runs: `batch_run_config`), each connection on its own, one op invocation for the
batch. Only the accounting job applies deletions: Rutter reports commerce deletions through webhooks alone.

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


def pull_op_name(family: Family) -> str:
    """`pull_commerce_changes` or `pull_accounting_changes`: the incremental job's one op."""
    return f"pull_{family.value}_changes"


def batch_run_config(family: Family, connection_ids: list[str]) -> dict:
    """The run config of an incremental run that pulls several connections (the schedule's batches)."""
    return {"ops": {pull_op_name(family): {"config": {"connections": connection_ids}}}}


def incremental_job(
    family: Family,
    *,
    partitions_def: dg.MultiPartitionsDefinition,
    executor_def: dg.ExecutorDefinition = dg.in_process_executor,
) -> dg.JobDefinition:
    """The job that pulls connections' changes to a family's endpoints; partitioned by the family's connections.

    A run pulls its partition's connection (launched from the UI or by a webhook), or the connections its config
    lists (`batch_run_config`: the schedule puts many connections in one run, so an hourly cycle of thousands of
    connections is tens of runs, not thousands). Each connection is pulled on its own: one that fails is named
    in the log and in the run's failure, and does not stop the others.

    Args:
        family: commerce or accounting.
        partitions_def: the family's (connection, month) grid, whose month partitions the pull's
            materializations are recorded on.
        executor_def: where the job's steps execute (in process, or on Celery workers).
    """

    @dg.op(
        name=pull_op_name(family),
        out=dg.Out(dg.Nothing),
        config_schema={
            "connections": dg.Field(
                [str],
                default_value=[],
                description="Connections to pull when the run has no partition (the schedule's batches).",
            )
        },
    )
    def pull_changes(context, rutter: RutterResource, warehouse: WarehouseResource) -> None:  # noqa: ANN001 - Dagster rejects the string annotation `from __future__ import annotations` makes
        """Pull every endpoint's changes since its watermark (and, for accounting, the deletions) per connection."""
        ids = [context.partition_key] if context.has_partition_key else list(context.op_config["connections"])
        if not ids:
            raise NoPartitionChosen(context.job_name, what="connection")
        months = month_keys(partitions_def)
        failed: dict[str, Exception] = {}
        for connection_id in ids:
            try:
                pull_connection(
                    context, family, rutter=rutter, warehouse=warehouse, connection_id=connection_id, months=months
                )
            except Exception as exc:  # noqa: BLE001 - one connection's failure must not stop the others' pulls
                context.log.error(f"incremental pull of connection {connection_id} failed: {exc!r}")
                failed[connection_id] = exc
        if len(ids) == 1 and failed:
            raise failed[ids[0]]
        if failed:
            raise dg.Failure(
                description=f"incremental pull failed for {len(failed)} of {len(ids)} connections: "
                + "; ".join(f"{cid} ({type(exc).__name__}: {exc})" for cid, exc in failed.items()),
                metadata={"failed connections": sorted(failed)},
            )

    @dg.job(
        name=incremental_job_name(family),
        partitions_def=connection_partitions(family),
        executor_def=executor_def,
        tags={PULL_TAG: "incremental"},
        description=f"Pull the changes of {family.value} connections since their watermarks"
        + (", then their deletions." if family is Family.ACCOUNTING else "; deletions arrive by webhook."),
    )
    def _incremental() -> None:
        pull_changes()

    return _incremental


def pull_connection(
    context: dg.OpExecutionContext,
    family: Family,
    *,
    rutter: RutterResource,
    warehouse: WarehouseResource,
    connection_id: str,
    months: list[str],
) -> None:
    """Pull one connection's changes to a family's endpoints, recording the month partitions written (`months`:
    the grid's month keys); for accounting, then apply the deletions Rutter reports."""
    connection = rutter.connection(connection_id)
    for endpoint in endpoints_for(family):
        summary = sync.incremental(
            client=rutter.client, engine=warehouse.engine, connection=connection, endpoint=endpoint
        )
        context.log.info(f"incremental {endpoint.path} of {connection.id}: {summary.as_dict()}")
        rows = rows_per_partition(summary, endpoint=endpoint, months=months)
        for month in partitions_written(summary, endpoint=endpoint, months=months):
            context.log_event(
                _materialization(
                    summary, endpoint=endpoint, connection=connection, month=month, rows=rows.get(month, 0)
                )
            )
    # Commerce deletions are reported only through webhooks; accounting ones through `/events`.
    if family is Family.ACCOUNTING:
        deletions = sync.apply_deletes(client=rutter.client, engine=warehouse.engine, connection=connection)
        context.log.info(f"deletions of {connection.id}: {deletions.as_dict()}")


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
