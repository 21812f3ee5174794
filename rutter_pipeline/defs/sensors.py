"""The connection sensor: registers ready connections as partitions and requests their backfills.

Every tick lists the organisation's connections. A ready connection becomes a `connection` partition of its
family's assets (of both families when its platform is unknown) and gets backfill runs of its family's job for
the months not loaded yet, each run covering up to six consecutive months (`MONTHS_PER_RUN`). A connection that
is not ready yet is looked at again on the next tick; one that needs re-authentication or is disabled is reported
in the tick's log and cursor and skipped without holding up the others. A connection Rutter no longer lists loses
its partitions, so nothing schedules it any more; its rows stay in the warehouse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.backfills import month_range_requests, plan_all_backfills
from rutter_pipeline.defs.partitions import check_partition_ceiling, connection_set, month_keys
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.connections import Connection, ConnectionStatus
from rutter_pipeline.rutter.errors import RutterError
from rutter_pipeline.warehouse.connections import LastLook, ready_at_last_look, record_connections

SENSOR_NAME = "rutter_connections"

#: The cursor's list of months whose retry delay has not passed yet.
MONTHS_WAITING = "backfills waiting for their retry"

#: `/connections/status` requests a tick at most: 500 take 10 s of Rutter's 500 requests / 10 s, well inside the
#: sensor's 60 s, so a first look at 2,000 new connections spreads over four ticks.
STATUS_REQUESTS_PER_TICK = 500

PartitionsRequest = dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest


@dataclass
class ConnectionReport:
    """What one look at the organisation's connections found."""

    ready: list[Connection] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    #: Ready connections (still pulled) whose status says Rutter's syncs from the platform are failing.
    unhealthy: dict[str, str] = field(default_factory=dict)
    platforms: dict[str, str] = field(default_factory=dict)
    seen: list[Connection] = field(default_factory=list)
    statuses: dict[str, ConnectionStatus] = field(default_factory=dict)
    #: Listed connections whose status was not asked in this look (over `max_status_requests`): the next look does.
    deferred: list[str] = field(default_factory=list)

    def as_cursor(self, months_waiting: list[str] | None = None) -> str:
        """A readable cursor: the connections held back and why, and the months waiting for their retry delay
        (shown on the sensor's page; `rutter-pipeline sync` reports them from it)."""
        return json.dumps(
            {
                "waiting": self.labelled(self.waiting),
                "broken": self.labelled(self.broken),
                "unhealthy": self.labelled(self.unhealthy),
                MONTHS_WAITING: months_waiting or [],
            },
            sort_keys=True,
        )

    @classmethod
    def from_cursor(cls, cursor: str | None) -> ConnectionReport:
        """The held-back connections (and their platforms) a tick's cursor names; no ready ones."""
        report = cls()
        held = json.loads(cursor) if cursor else {}
        for name in ("waiting", "broken", "unhealthy"):
            for connection_id, label in held.get(name, {}).items():
                platform, _, why = label.partition(": ")
                report.platforms[connection_id] = platform
                getattr(report, name)[connection_id] = why
        return report

    @staticmethod
    def months_waiting(cursor: str | None) -> list[str]:
        """The months a tick's cursor names as waiting for their retry delay, described."""
        return list(json.loads(cursor).get(MONTHS_WAITING, [])) if cursor else []

    def labelled(self, reasons: dict[str, str]) -> dict[str, str]:
        """The reasons, each prefixed with the connection's platform."""
        return {cid: f"{self.platforms.get(cid, '?')}: {why}" for cid, why in reasons.items()}


@dataclass(frozen=True)
class Verdict:
    """Whether a connection's data can be read now: `ready`, `waiting` (not ready yet) or `broken`, and why not."""

    state: str
    why: str = ""
    status: ConnectionStatus | None = None


def triage(client: RutterClient, connection: Connection) -> Verdict:
    """Ask Rutter for a connection's status and say whether its data can be read now.

    The one triage of a connection, used by the connection sensor's survey and by the webhook readiness sensor.
    A status that cannot be read is `broken` with the error code; it never raises a `RutterError`.
    """
    if "|" in connection.id:
        return Verdict("broken", "id contains '|', which partition keys cannot hold")
    try:
        status = client.connection_status(connection.access_token)
    except RutterError as exc:
        return Verdict("broken", f"status unavailable ({exc.error_code or exc.status})")
    if status.is_disabled:
        return Verdict("broken", f"disabled ({status.disabled_reason or 'no reason given'})", status)
    if status.needs_update:
        return Verdict("broken", "needs re-authentication by the merchant", status)
    if not status.is_ready:
        return Verdict("waiting", "initial sync not finished", status)
    return Verdict("ready", "", status)


def survey(
    client: RutterClient,
    *,
    engine: sa.Engine | None = None,
    max_status_requests: int | None = None,
) -> ConnectionReport:
    """Sort the organisation's connections into ready, waiting (not ready yet) and broken; writes nothing.

    A connection whose status cannot be read is reported as broken with the error code and does not stop the
    survey of the others. What it found is recorded by `record_survey`.

    The connections are listed once; with an `engine` (read only: the warehouse's `rutter._connections`),
    `/connections/status` is asked only of connections that are new, were not ready at the last look, or whose
    listed status (active, unhealthy, needs_reauth, ...) has changed since: at thousands of connections a status
    request each per tick would spend most of the organisation's rate limit before any data moves. Given
    `max_status_requests`, the connections past it are `deferred`: not recorded, so the next look asks them (a
    first look at thousands of new connections would otherwise wait on the rate limiter past the sensor's time
    limit).
    """
    report = ConnectionReport()
    known: dict[str, LastLook] = {}
    if engine is not None:
        with engine.connect() as db:
            known = ready_at_last_look(db)
    asked = 0
    for connection in client.list_connections():
        report.platforms[connection.id] = connection.platform
        report.seen.append(connection)
        last = known.get(connection.id)
        if "|" not in connection.id and last is not None and last.listed_status == connection.status:
            report.ready.append(connection)
            if last.is_healthy is False:
                report.unhealthy[connection.id] = _unhealthy(last.last_sync_completed_at)
            continue
        if max_status_requests is not None and asked >= max_status_requests:
            report.deferred.append(connection.id)
            continue
        asked += 1
        verdict = triage(client, connection)
        if verdict.status is not None:
            report.statuses[connection.id] = verdict.status
        if verdict.state == "broken":
            report.broken[connection.id] = verdict.why
        elif verdict.state == "waiting":
            report.waiting[connection.id] = verdict.why
        else:
            report.ready.append(connection)
            status = verdict.status
            if status is not None and status.is_healthy is False:
                report.unhealthy[connection.id] = _unhealthy(status.last_sync_completed_at)
    return report


def _unhealthy(last_sync_completed_at: datetime | None) -> str:
    last = last_sync_completed_at.isoformat() if last_sync_completed_at else "never"
    return f"unhealthy (Rutter's last completed sync: {last})"


def record_survey(engine: sa.Engine, report: ConnectionReport, *, source: str) -> None:
    """Record in `rutter._connections` what a survey found, with `source` (`sandbox` or the Rutter API URL).

    Deferred connections are left out, so the next survey still sees them as new and asks their status.
    """
    deferred = set(report.deferred)
    looked_at = [c for c in report.seen if c.id not in deferred]
    with engine.begin() as tx:
        record_connections(tx, seen=looked_at, statuses=report.statuses, source=source)


def partition_requests(
    instance: dg.DagsterInstance, report: ConnectionReport, *, months: int | None = None
) -> list[PartitionsRequest]:
    """The changes that bring each family's connection partitions in step with what Rutter lists.

    A ready connection is added to the partitions of each family it fills; a registered connection that Rutter
    no longer lists at all is removed (one that is only waiting or broken keeps its partition and its history).
    Given the grid's number of `months`, adding connections past the partition ceiling raises
    `PartitionCeilingReached` instead.
    """
    listed = {c.id for c in report.ready} | set(report.waiting) | set(report.broken) | set(report.deferred)
    requests: list[PartitionsRequest] = []
    for family in Family:
        name = connection_set(family)
        registered = set(instance.get_dynamic_partitions(name))
        new = sorted({c.id for c in report.ready if family in c.families} - registered)
        gone = sorted(registered - listed)
        if new and months is not None:
            check_partition_ceiling(family, connections=len(registered - set(gone)) + len(new), months=months)
        if new:
            requests.append(dg.AddDynamicPartitionsRequest(name, new))
        if gone:
            requests.append(dg.DeleteDynamicPartitionsRequest(name, gone))
    return requests


def apply_partition_requests(instance: dg.DagsterInstance, requests: list[PartitionsRequest]) -> None:
    """Apply partition changes directly, as the daemon does with a sensor's (for runs without a daemon)."""
    for request in requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def connection_sensor(
    partitions_def: dg.MultiPartitionsDefinition, jobs: list, *, source: str | None = None
) -> dg.SensorDefinition:
    """The sensor that keeps the families' `connection` partitions in step with Rutter and requests backfills.

    Args:
        partitions_def: a (connection, month) grid of the Rutter assets (the families share their months).
        jobs: the family backfill jobs the sensor requests runs of.
        source: recorded with the connections (`sandbox` or the Rutter API URL).
    """

    @dg.sensor(
        name=SENSOR_NAME,
        jobs=jobs,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Registers ready Rutter connections as partitions and requests backfill runs of up to six months each."
        ),
    )
    def _sensor(
        context: dg.SensorEvaluationContext, rutter: RutterResource, warehouse: WarehouseResource
    ) -> dg.SensorResult:
        report = survey(rutter.client, engine=warehouse.engine, max_status_requests=STATUS_REQUESTS_PER_TICK)
        record_survey(warehouse.engine, report, source=source or rutter.client.base_url)
        if report.deferred:
            context.log.info(
                f"{len(report.deferred)} connections left to the next ticks: at most {STATUS_REQUESTS_PER_TICK} "
                "status requests a tick, so a first look at thousands of connections stays inside the time limit"
            )
        months = month_keys(partitions_def)
        due, waiting = [], []
        plans = plan_all_backfills(context.instance, warehouse.engine, connections=report.ready, months=months)
        for plan in plans.values():
            due += plan.due
            waiting += [missing.describe() for missing in plan.waiting]
        for described in waiting:
            context.log.warning(f"backfill not loaded yet: {described}")
        requests = month_range_requests(due, months=months)
        for connection_id, why in {**report.waiting, **report.broken}.items():
            context.log.warning(f"connection {connection_id} ({report.platforms[connection_id]}) skipped: {why}")
        for connection_id, why in report.unhealthy.items():
            context.log.warning(
                f"connection {connection_id} ({report.platforms[connection_id]}) is {why}; its data may be stale"
            )
        partition_changes = partition_requests(context.instance, report, months=len(months))
        for change in partition_changes:
            if isinstance(change, dg.DeleteDynamicPartitionsRequest):
                context.log.info(
                    f"connections no longer listed by Rutter, removed from "
                    f"{change.partitions_def_name}: {list(change.partition_keys)}"
                )
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=partition_changes,
            cursor=report.as_cursor(waiting),
            skip_reason=None if requests else _skip_reason(report),
        )

    return _sensor


def _skip_reason(report: ConnectionReport) -> str:
    held = report.labelled({**report.waiting, **report.broken})
    held_text = "; ".join(f"{cid} ({why})" for cid, why in sorted(held.items()))
    unhealthy = report.labelled(report.unhealthy)
    unhealthy_text = "; ".join(f"{cid} ({why})" for cid, why in sorted(unhealthy.items()))
    return (
        f"every ready connection is backfilled ({len(report.ready)} ready)"
        + (f"; held back: {held_text}" if held else "")
        + (f"; ready but {unhealthy_text}" if unhealthy else "")
        + (f"; {len(report.deferred)} connections left to the next ticks" if report.deferred else "")
    )
