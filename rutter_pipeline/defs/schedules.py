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

#: `/connections` statuses whose data cannot be read; their incremental runs would only fail.
UNUSABLE_STATUSES = frozenset({"not_ready", "needs_reauth", "disabled"})


def incremental_requests(
    *, registered: set[str], listed: dict[str, str | None], tick: str, labels: dict[str, str] | None = None
) -> list[dg.RunRequest]:
    """One run request per connection that is registered as a partition and listed as usable by Rutter.

    Args:
        registered: connection ids registered as the family's `connection` partitions (by the sensor or `sync`).
        listed: the connections Rutter lists now, id → status.
        tick: identifies the schedule tick, so each tick requests each connection once.
        labels: the connections' platform and name, tagged on their runs.
    """
    return [
        dg.RunRequest(
            run_key=f"{tick}:{connection_id}",
            partition_key=connection_id,
            tags=connection_tags(connection_id, pull="incremental", label=(labels or {}).get(connection_id)),
        )
        for connection_id in sorted(registered & set(listed))
        if (listed[connection_id] or "").lower() not in UNUSABLE_STATUSES
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
        connections = rutter.client.list_connections()
        requests = incremental_requests(
            registered=registered,
            listed={c.id: c.status for c in connections},
            tick=context.scheduled_execution_time.isoformat(),
            labels={c.id: connection_label(c) for c in connections},
        )
        if not requests:
            return dg.SkipReason(f"no usable registered {family.value} connection ({len(registered)} registered)")
        return requests

    return _schedule
