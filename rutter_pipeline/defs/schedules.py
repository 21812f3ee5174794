"""The incremental schedules: on the configured cron, one incremental run per registered, usable connection.

A schedule starts runs of one job, so each family's incremental job has its own schedule on the same cron; a
connection of an unknown platform is registered for both families and gets a run from each.
"""

from __future__ import annotations

import dagster as dg

from rutter_pipeline.defs.jobs import connection_tags
from rutter_pipeline.defs.partitions import connection_label, connection_set
from rutter_pipeline.defs.resources import RutterResource
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.connections import Connection


def incremental_requests(*, registered: set[str], listed: list[Connection], tick: str) -> list[dg.RunRequest]:
    """One run request per connection that is registered as a partition and that Rutter lists as pullable.

    Args:
        registered: connection ids registered as the family's `connection` partitions (by the connection sensor).
        listed: the connections Rutter lists now (`Connection.pullable` says whose data can be read).
        tick: identifies the schedule tick, so each tick requests each connection once.
    """
    return [
        dg.RunRequest(
            run_key=f"{tick}:{connection.id}",
            partition_key=connection.id,
            tags=connection_tags(connection.id, pull="incremental", label=connection_label(connection)),
        )
        for connection in sorted(listed, key=lambda c: c.id)
        if connection.id in registered and connection.pullable
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
        description=f"Pull the changes of every ready {family.value} connection.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, rutter: RutterResource) -> list[dg.RunRequest] | dg.SkipReason:
        registered = set(context.instance.get_dynamic_partitions(connection_set(family)))
        requests = incremental_requests(
            registered=registered,
            listed=rutter.client.list_connections(),
            tick=context.scheduled_execution_time.isoformat(),
        )
        if not requests:
            return dg.SkipReason(f"no usable registered {family.value} connection ({len(registered)} registered)")
        return requests

    return _schedule
