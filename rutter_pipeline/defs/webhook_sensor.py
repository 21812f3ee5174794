"""The webhook sensors: work that Rutter's webhooks start, read from the inbox the receiver writes.

- `rutter_webhook_readiness`: a connection whose readiness event (`INITIAL_UPDATE`, `HISTORICAL_UPDATE`) is
  queued is registered as a partition of its family and gets its backfill runs at the next tick, instead of
  waiting for the connection sensor's survey to notice.
- `rutter_webhook_changes`: a connection with queued change events (`ORDER_UPDATED`, `INVOICE_CREATED`,
  `INCREMENTAL_SYNC_COMPLETED`, ...) gets one incremental run per family it is registered in, once no event
  arrived for `quiet_s` (or the first has waited `max_wait_s`): many events, one run.

Nothing is lost if a tick fails. A tick requests runs and names the events they cover in its cursor; the
daemon stores the cursor only after it has submitted the runs, and the next tick marks exactly those events
processed. A tick that failed leaves the cursor as it was, so the same events are read again and requested
again under the same run keys, which the daemon does not launch twice. The connection sensor and the
schedules stay the safety net for webhooks that never arrive.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.backfills import plan_all_backfills
from rutter_pipeline.defs.incremental import incremental_job_name
from rutter_pipeline.defs.jobs import CONNECTION_TAG, connection_tags
from rutter_pipeline.defs.partitions import connection_set, month_keys
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.defs.sensors import triage
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.warehouse.connections import record_connections
from rutter_pipeline.webhooks import events
from rutter_pipeline.webhooks.events import Kind, Waiting

READINESS_SENSOR = "rutter_webhook_readiness"
CHANGES_SENSOR = "rutter_webhook_changes"
#: Tag on runs a webhook started, naming the kind of event.
TRIGGER_TAG = "rutter/trigger"
#: A connection's changes are pulled once no event arrived for this long ...
QUIET_S = 30.0
#: ... or once its first queued event has waited this long, so a steady stream still gets pulled.
MAX_WAIT_S = 300.0
_QUEUED_RUN = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]


def readiness_sensor(
    partitions_def: dg.MultiPartitionsDefinition, jobs: list, *, source: str | None = None, interval_s: int = 30
) -> dg.SensorDefinition:
    """The sensor that registers connections announced ready by webhook and requests their backfills.

    Args:
        partitions_def: a (connection, month) grid of the Rutter assets (the families share their months).
        jobs: the family backfill jobs.
        source: recorded in `_connections.source` (`sandbox`, or the Rutter API URL).
        interval_s: seconds between ticks.
    """

    @dg.sensor(
        name=READINESS_SENSOR,
        jobs=jobs,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Registers connections that Rutter announces ready by webhook and requests their backfills.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, rutter: RutterResource, warehouse: WarehouseResource
    ) -> dg.SensorResult:
        engine = warehouse.engine
        events.settle_all(engine, Kind.READINESS, _covered(context.cursor))
        batch = events.waiting(engine, Kind.READINESS)
        if not batch:
            return dg.SensorResult(skip_reason="no readiness webhook waiting", cursor=_cursor([]))
        listed = {c.id: c for c in rutter.client.list_connections()}
        months = month_keys(partitions_def)
        requests: list[dg.RunRequest] = []
        added: dict[Family, list[str]] = {}
        covered = []
        ready: list[tuple[Waiting, Connection]] = []
        for waiting in batch:
            connection = listed.get(waiting.connection_id)
            why_not = _not_ready(rutter.client, connection, engine=engine, source=source)
            if why_not or connection is None:
                context.log.warning(
                    f"readiness webhook for connection {waiting.connection_id}: {why_not}; "
                    "the connection sensor will register it once Rutter lists it ready"
                )
                covered.append(_settled(waiting, why_not or "not listed by Rutter"))
            else:
                ready.append((waiting, connection))
        # One read of each family's partitions and one plan for all of the batch, as the connection sensor does.
        registered = {family: set(context.instance.get_dynamic_partitions(connection_set(family))) for family in Family}
        plans = plan_all_backfills(context.instance, engine, connections=[c for _, c in ready], months=months)
        for waiting, connection in ready:
            for family in connection.families:
                if connection.id not in registered[family]:
                    added.setdefault(family, []).append(connection.id)
            missing = plans[connection.id].due
            requests += [_tagged(m.run_request(), Kind.READINESS) for m in missing]
            context.log.info(
                f"connection {connection.id} ({connection.platform}) announced ready: "
                f"{len(missing)} backfill run(s) requested"
            )
            covered.append(_settled(waiting, f"registered; {len(missing)} backfill run(s) requested"))
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[
                dg.AddDynamicPartitionsRequest(connection_set(family), ids) for family, ids in added.items()
            ],
            cursor=_cursor(covered),
        )

    return _sensor


def changes_sensor(
    jobs: dict[Family, dg.JobDefinition],
    *,
    quiet_s: float = QUIET_S,
    max_wait_s: float = MAX_WAIT_S,
    interval_s: int = 30,
) -> dg.SensorDefinition:
    """The sensor that turns a connection's change webhooks into one incremental run per family.

    Args:
        jobs: each family's incremental job.
        quiet_s: a connection is pulled once no change event arrived for this many seconds ...
        max_wait_s: ... or once its first queued event has waited this many.
        interval_s: seconds between ticks.
    """

    @dg.sensor(
        name=CHANGES_SENSOR,
        jobs=list(jobs.values()),
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests one incremental run of a connection whose objects changed, per burst of webhooks.",
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
        engine = warehouse.engine
        events.settle_all(engine, Kind.CHANGE, _covered(context.cursor))
        now = datetime.now(UTC)
        registered = {family: set(context.instance.get_dynamic_partitions(connection_set(family))) for family in jobs}
        requests: list[dg.RunRequest] = []
        covered = []
        held = 0
        for waiting in events.waiting(engine, Kind.CHANGE):
            due = now - waiting.last_received_at >= timedelta(
                seconds=quiet_s
            ) or now - waiting.first_received_at >= timedelta(seconds=max_wait_s)
            if not due:
                held += 1
                continue
            families = [family for family in jobs if waiting.connection_id in registered[family]]
            if not families:
                covered.append(_settled(waiting, "not registered; its backfill will bring the changes"))
                continue
            wanted = []
            for family in families:
                queued = _queued_incremental_run(context.instance, family, waiting.connection_id)
                if queued is None:
                    wanted.append(family)
                    requests.append(_pull(family, waiting))
            outcome = (
                f"incremental run requested for {', '.join(f.value for f in wanted)}"
                if wanted
                else "covered by an incremental run already queued"
            )
            covered.append(_settled(waiting, f"{outcome} ({waiting.count} event(s))"))
        skip = (
            None
            if requests
            else ("no change webhook due" + (f"; {held} connection(s) still receiving changes" if held else ""))
        )
        return dg.SensorResult(run_requests=requests, cursor=_cursor(covered), skip_reason=skip)

    return _sensor


def _not_ready(
    client: RutterClient, connection: Connection | None, *, engine: sa.Engine, source: str | None
) -> str | None:
    """Why a connection announced ready cannot be registered now (None when it can); records its status."""
    if connection is None:
        return "not listed by Rutter"
    verdict = triage(client, connection)
    if verdict.status is not None:
        with engine.begin() as tx:
            record_connections(tx, seen=[connection], statuses={connection.id: verdict.status}, source=source)
    return None if verdict.state == "ready" else verdict.why


def _pull(family: Family, waiting: Waiting) -> dg.RunRequest:
    # Keyed by the batch's first event: a tick repeated before the batch is settled asks for the same run.
    return _tagged(
        dg.RunRequest(
            run_key=f"webhooks:{incremental_job_name(family)}:{waiting.connection_id}:{waiting.first_event_id}",
            job_name=incremental_job_name(family),
            partition_key=waiting.connection_id,
            tags=connection_tags(waiting.connection_id, pull="incremental"),
        ),
        Kind.CHANGE,
    )


def _tagged(request: dg.RunRequest, kind: Kind) -> dg.RunRequest:
    return request.with_replaced_attrs(tags={**request.tags, TRIGGER_TAG: f"webhook:{kind.value}"})


def _queued_incremental_run(instance: dg.DagsterInstance, family: Family, connection_id: str) -> str | None:
    """A run of the family's incremental job for the connection that has not started yet (it will see the changes)."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=incremental_job_name(family), tags={CONNECTION_TAG: connection_id}, statuses=_QUEUED_RUN
        ),
        limit=1,
    )
    return records[0].dagster_run.run_id if records else None


def _settled(waiting: Waiting, outcome: str) -> dict:
    return {
        "connection_id": waiting.connection_id,
        "received_until": waiting.last_received_at.isoformat(),
        "outcome": outcome,
    }


def _cursor(covered: list[dict]) -> str:
    return json.dumps({"requested": covered}, sort_keys=True)


def _covered(cursor: str | None) -> list[dict]:
    """The batches the previous tick requested runs for (the daemon stored its cursor, so they were submitted)."""
    return json.loads(cursor)["requested"] if cursor else []
