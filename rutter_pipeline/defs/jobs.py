"""Backfill jobs: one per family, materializing all of the family's assets for one (connection, month).

A run's one step executes in the run's process, or on a Celery worker when RUTTER_EXECUTOR=celery
(`defs/executors.py`).
"""

from __future__ import annotations

import dagster as dg

from rutter_pipeline.defs.assets import group_name
from rutter_pipeline.defs.partitions import FamilyGrids
from rutter_pipeline.rutter.catalog import Family

PULL_TAG = "rutter/pull"
CONNECTION_TAG = "rutter/connection"
#: The connection's platform and name (`SHOPIFY Demo Shop`): run lists show the id otherwise.
CONNECTION_NAME_TAG = "rutter/connection_name"


def backfill_job_name(family: Family) -> str:
    """`commerce_backfill` or `accounting_backfill`."""
    return f"{family.value}_backfill"


def backfill_job(
    family: Family,
    *,
    partitions_def: dg.MultiPartitionsDefinition,
    executor_def: dg.ExecutorDefinition = dg.in_process_executor,
) -> dg.UnresolvedAssetJobDefinition:
    """The job that backfills every asset of one family for one (connection, month) partition of its grid."""
    return dg.define_asset_job(
        name=backfill_job_name(family),
        selection=dg.AssetSelection.groups(group_name(family)).without_checks(),
        partitions_def=partitions_def,
        executor_def=executor_def,
        tags={PULL_TAG: "backfill"},
        description=f"Backfill every {family.value} endpoint of one connection for one month.",
    )


def backfill_jobs(
    grids: FamilyGrids, *, executor_def: dg.ExecutorDefinition = dg.in_process_executor
) -> dict[Family, dg.UnresolvedAssetJobDefinition]:
    """The backfill job of each family, on the family's grid, its steps executed by `executor_def`."""
    return {family: backfill_job(family, partitions_def=grids[family], executor_def=executor_def) for family in Family}


def connection_tags(connection_id: str, *, pull: str, label: str | None = None) -> dict[str, str]:
    """Run tags naming the connection (for the per-connection concurrency limit), the kind of pull and, given a
    `label` (see `partitions.connection_label`), the connection's platform and name."""
    tags = {CONNECTION_TAG: connection_id, PULL_TAG: pull}
    if label:
        tags[CONNECTION_NAME_TAG] = label
    return tags
