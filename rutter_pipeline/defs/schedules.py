"""The incremental schedule: on the configured cron, one incremental run per registered, usable connection."""

from __future__ import annotations

import dagster as dg

from rutter_pipeline.defs.jobs import connection_tags
from rutter_pipeline.defs.partitions import CONNECTION
from rutter_pipeline.defs.resources import RutterResource

SCHEDULE_NAME = "incremental_sync_schedule"

#: `/connections` statuses whose data cannot be read; their incremental runs would only fail.
UNUSABLE_STATUSES = frozenset({"not_ready", "needs_reauth", "disabled"})


def incremental_requests(*, registered: set[str], listed: dict[str, str | None], tick: str) -> list[dg.RunRequest]:
    """One run request per connection that is registered as a partition and listed as usable by Rutter.

    Args:
        registered: connection ids registered as `connection` partitions (by the sensor or `sync`).
        listed: the connections Rutter lists now, id → status.
        tick: identifies the schedule tick, so each tick requests each connection once.
    """
    return [
        dg.RunRequest(
            run_key=f"{tick}:{connection_id}",
            partition_key=connection_id,
            tags=connection_tags(connection_id, pull="incremental"),
        )
        for connection_id in sorted(registered & set(listed))
        if (listed[connection_id] or "").lower() not in UNUSABLE_STATUSES
    ]


def incremental_schedule(job: dg.JobDefinition, *, cron: str) -> dg.ScheduleDefinition:
    """The schedule that requests incremental runs on `cron` (RUTTER_INCREMENTAL_CRON)."""

    @dg.schedule(
        name=SCHEDULE_NAME,
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Pull changes and deletions of every ready connection.",
    )
    def _schedule(context, rutter: RutterResource):
        registered = set(context.instance.get_dynamic_partitions(CONNECTION))
        listed = {c.id: c.status for c in rutter.client.list_connections()}
        requests = incremental_requests(
            registered=registered, listed=listed, tick=context.scheduled_execution_time.isoformat()
        )
        if not requests:
            return dg.SkipReason(f"no usable registered connection ({len(registered)} registered)")
        return requests

    return _schedule

