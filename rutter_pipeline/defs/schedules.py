"""The incremental schedules: on the configured cron, every registered, pullable connection's changes, in batches.

A schedule starts runs of one job, so each family's incremental job has its own schedule on the same cron; a
connection of an unknown platform is registered for both families and is pulled by each. A run pulls up to
`CONNECTIONS_PER_RUN` connections, each on its own (one failing does not stop the others; the run's failure names
it), so a cycle of thousands of connections is tens of runs.
"""

from __future__ import annotations

import dagster as dg

from rutter_pipeline.defs.incremental import batch_run_config
from rutter_pipeline.defs.jobs import PULL_TAG
from rutter_pipeline.defs.partitions import connection_set
from rutter_pipeline.defs.resources import RutterResource
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.connections import Connection

#: Connections per incremental run of a schedule tick: at 2,000 connections an hourly cycle is 40 runs per family
#: instead of 2,000, each paying Dagster's per-run cost (seconds) once.
CONNECTIONS_PER_RUN = 50
#: Tag on a batch run: how many connections it pulls (their ids are in the run's config).
CONNECTION_COUNT_TAG = "rutter/connection_count"


def incremental_requests(
    family: Family, *, registered: set[str], listed: list[Connection], tick: str, per_run: int = CONNECTIONS_PER_RUN
) -> list[dg.RunRequest]:
    """Run requests pulling every connection registered as the family's partition that Rutter lists as pullable,
    in batches of up to `per_run` connections per run.

    Args:
        family: whose incremental job the runs are of.
        registered: connection ids registered as the family's `connection` partitions (by the connection sensor).
        listed: the connections Rutter lists now (`Connection.pullable` says whose data can be read).
        tick: identifies the schedule tick, so each tick requests each batch once.
        per_run: connections per run.
    """
    due = [c.id for c in sorted(listed, key=lambda c: c.id) if c.id in registered and c.pullable]
    batches = [due[start : start + per_run] for start in range(0, len(due), per_run)]
    return [
        dg.RunRequest(
            run_key=f"{tick}:{batch[0]}..{batch[-1]}",
            run_config=batch_run_config(family, batch),
            tags={PULL_TAG: "incremental", CONNECTION_COUNT_TAG: str(len(batch))},
        )
        for batch in batches
    ]


def schedule_name(family: Family) -> str:
    """`commerce_incremental_sync_schedule` or `accounting_incremental_sync_schedule`."""
    return f"{family.value}_incremental_sync_schedule"


def incremental_schedule(family: Family, *, job: dg.JobDefinition, cron: str) -> dg.ScheduleDefinition:
    """The schedule that requests a family's incremental runs on `cron` (RUTTER_INCREMENTAL_CRON).

    Args:
        family: whose registered connections get runs.
        job: the family's incremental job.
        cron: when, in UTC.
    """

    @dg.schedule(
        name=schedule_name(family),
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Pull the changes of every ready {family.value} connection, {CONNECTIONS_PER_RUN} per run.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, rutter: RutterResource) -> list[dg.RunRequest] | dg.SkipReason:
        registered = set(context.instance.get_dynamic_partitions(connection_set(family)))
        requests = incremental_requests(
            family,
            registered=registered,
            listed=rutter.client.list_connections(),
            tick=context.scheduled_execution_time.isoformat(),
        )
        if not requests:
            return dg.SkipReason(f"no usable registered {family.value} connection ({len(registered)} registered)")
        return requests

    return _schedule
