"""`rutter-pipeline backfill`: backfill chosen months of one connection, recorded in Dagster like a UI backfill.

The command creates a Dagster asset backfill (the object the UI creates from an asset page, listed on the
Backfills page) and executes its runs in this process, one (connection, month) after another, so it needs no
daemon and never runs one connection twice at a time. Every run carries the backfill's tag. Without `--asset`
the runs are the family's backfill job, so the months count as loaded for the connection sensor; with `--asset`
they are runs of just those assets, as the asset page launches them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.execution.asset_backfill import AssetBackfillData
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.utils import make_new_backfill_id

from rutter_pipeline.defs.assets import asset_key
from rutter_pipeline.defs.jobs import backfill_job_name, connection_tags
from rutter_pipeline.defs.partitions import connection_label as label
from rutter_pipeline.defs.partitions import connection_set, month_keys, partition_key
from rutter_pipeline.rutter.catalog import endpoints_for
from rutter_pipeline.rutter.connections import Connection

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
BACKFILL_TAG = "dagster/backfill"


class BackfillError(ValueError):
    """The arguments name something that does not exist; the message says what and what does."""


@dataclass(frozen=True)
class BackfillPlan:
    """What a `rutter-pipeline backfill` will run: one connection, its months, the assets per job."""

    connection: Connection
    months: list[str]
    assets: list[dg.AssetKey]
    #: job name -> asset keys to select in it (None: the whole job).
    jobs: dict[str, list[dg.AssetKey] | None]


@dataclass
class BackfillOutcome:
    """The backfill's id and each run's partition and success."""

    backfill_id: str
    runs: list[tuple[str, str, bool]] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        """`job partition` of each failed run."""
        return [f"{job} {partition}" for job, partition, ok in self.runs if not ok]


def plan(
    *,
    connections: Sequence[Connection],
    connection_id: str,
    first: str,
    last: str,
    assets: Sequence[str],
    grid_months: list[str],
) -> BackfillPlan:
    """Check the arguments against what exists and say which runs the backfill makes.

    Raises:
        BackfillError: unknown connection, malformed month, `first` after `last`, a month outside the
            partitions, or an asset the connection cannot fill.
    """
    by_id = {c.id: c for c in connections}
    if connection_id not in by_id:
        known = ", ".join(f"{c.id} ({label(c)})" for c in connections) or "none"
        raise BackfillError(f"unknown connection {connection_id!r}; Rutter lists: {known}")
    connection = by_id[connection_id]
    for name, month in (("--from", first), ("--to", last)):
        if not _MONTH.match(month):
            raise BackfillError(f"{name} must be a month as YYYY-MM, got {month!r}")
    if first > last:
        raise BackfillError(f"--from {first} is after --to {last}")
    if first < grid_months[0] or last > grid_months[-1]:
        raise BackfillError(
            f"months {first}..{last} are outside the partitions {grid_months[0]}..{grid_months[-1]} "
            "(RUTTER_HISTORY_START sets the first)"
        )
    fillable = {asset_key(e): family for family in connection.families for e in endpoints_for(family)}
    wanted = [dg.AssetKey.from_user_string(a.strip().strip("/")) for a in assets]
    unknown = [k.to_user_string() for k in wanted if k not in fillable]
    if unknown:
        raise BackfillError(
            f"unknown asset {', '.join(unknown)} for a {connection.platform} connection; "
            f"e.g. {sorted(fillable, key=str)[0].to_user_string()}"
        )
    jobs: dict[str, list[dg.AssetKey] | None] = {}
    if wanted:
        jobs[IMPLICIT_JOB] = wanted
    else:
        jobs = {backfill_job_name(family): None for family in connection.families}
    return BackfillPlan(
        connection=connection,
        months=[m for m in grid_months if first <= m <= last],
        assets=wanted or list(fillable),
        jobs=jobs,
    )


IMPLICIT_JOB = "__ASSET_JOB"


def run_backfill(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    chosen: BackfillPlan,
    *,
    progress: Callable[[str, str, bool, float], None] = lambda *_: None,
) -> BackfillOutcome:
    """Record the backfill in the instance, execute its runs in this process, and mark it finished."""
    connection = chosen.connection
    for family in connection.families:
        instance.add_dynamic_partitions(connection_set(family), [connection.id])
    keys = [partition_key(connection.id, month) for month in chosen.months]
    graph = defs.resolve_asset_graph()
    backfill_id = make_new_backfill_id()
    tags = {
        **connection_tags(connection.id, pull="backfill", label=label(connection)),
        "rutter/source": "rutter-pipeline backfill",
    }
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=graph,
        partition_names=keys,
        asset_selection=chosen.assets,
        backfill_timestamp=time.time(),
        tags=tags,
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=f"{label(connection)} {chosen.months[0]}..{chosen.months[-1]}",
        description=f"rutter-pipeline backfill of connection {connection.id}",
        run_config=None,
    )
    # Marked as requested runs already, so a running daemon leaves the runs to this process.
    requested = _asset_data(backfill)
    data = requested.with_requested_runs_for_target_roots(True).replace_requested_subset(requested.target_subset)
    instance.add_backfill(
        backfill.with_asset_backfill_data(data, dynamic_partitions_store=instance, asset_graph=graph).with_status(
            BulkActionStatus.REQUESTED
        )
    )
    outcome = BackfillOutcome(backfill_id)
    done: set[AssetKeyPartitionKey] = set()
    for job_name, selection in chosen.jobs.items():
        job = (
            defs.resolve_implicit_global_asset_job_def() if job_name == IMPLICIT_JOB else defs.resolve_job_def(job_name)
        )
        for key in keys:
            started = time.monotonic()
            result = job.execute_in_process(
                instance=instance,
                partition_key=key,
                asset_selection=selection,
                raise_on_error=False,
                tags={**tags, BACKFILL_TAG: backfill_id},
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            )
            outcome.runs.append((job.name, str(key), result.success))
            progress(job.name, str(key), result.success, time.monotonic() - started)
            done |= {
                AssetKeyPartitionKey(e.asset_key, str(key))
                for e in result.get_asset_materialization_events()
                if e.asset_key
            }
    stored = instance.get_backfill(backfill_id)
    if stored is None:
        raise BackfillError(f"the backfill {backfill_id} was deleted while it ran")
    finished = _asset_data(stored)._replace(materialized_subset=AssetGraphSubset.from_asset_partition_set(done, graph))
    instance.update_backfill(
        stored.with_asset_backfill_data(finished, dynamic_partitions_store=instance, asset_graph=graph)
        .with_status(BulkActionStatus.COMPLETED_FAILED if outcome.failed else BulkActionStatus.COMPLETED_SUCCESS)
        .with_end_timestamp(time.time())
    )
    return outcome


def _asset_data(backfill: PartitionBackfill) -> AssetBackfillData:
    """The asset partitions of a backfill made from asset partitions (the only kind this module makes)."""
    if backfill.asset_backfill_data is None:
        raise BackfillError(f"the backfill {backfill.backfill_id} is not an asset backfill")
    return backfill.asset_backfill_data


def grid_months(defs: dg.Definitions) -> list[str]:
    """The month partitions of the Rutter assets as of now."""
    for spec in defs.resolve_all_asset_specs():
        if isinstance(spec.partitions_def, dg.MultiPartitionsDefinition):
            return month_keys(spec.partitions_def)
    raise BackfillError("no Rutter asset with (connection, month) partitions is defined")
