"""The connection sensor: registers ready connections as partitions and requests their backfills.

Every tick lists the organisation's connections. A ready connection becomes a `connection` partition and gets
one backfill run per month not loaded yet (one run per (connection, month) with its family's job). A connection
that is not ready yet is looked at again on the next tick; one that needs re-authentication or is disabled is
reported in the tick's log and cursor and skipped without holding up the others. A connection Rutter no
longer lists loses its partition, so nothing schedules it any more; its rows stay in the warehouse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.backfills import missing_months
from rutter_pipeline.defs.partitions import CONNECTION, month_keys
from rutter_pipeline.defs.resources import RutterResource, WarehouseResource
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.connections import Connection, ConnectionStatus
from rutter_pipeline.rutter.errors import RutterError
from rutter_pipeline.warehouse.connections import record_connections

SENSOR_NAME = "rutter_connections"


@dataclass
class ConnectionReport:
    """What one look at the organisation's connections found."""

    ready: list[Connection] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    platforms: dict[str, str] = field(default_factory=dict)
    seen: list[Connection] = field(default_factory=list)
    statuses: dict[str, ConnectionStatus] = field(default_factory=dict)

    def as_cursor(self) -> str:
        """A readable cursor: the connections held back and why (shown on the sensor's page)."""
        return json.dumps({"waiting": self.labelled(self.waiting), "broken": self.labelled(self.broken)},
                          sort_keys=True)

    def labelled(self, reasons: dict[str, str]) -> dict[str, str]:
        """The reasons, each prefixed with the connection's platform."""
        return {cid: f"{self.platforms.get(cid, '?')}: {why}" for cid, why in reasons.items()}


def survey(client: RutterClient, *, engine: sa.Engine | None = None) -> ConnectionReport:
    """Sort the organisation's connections into ready, waiting (not ready yet) and broken.

    A connection whose status cannot be read is reported as broken with the error code and does not stop the
    survey of the others. With a warehouse `engine`, what was found is recorded in `rutter._connections`.
    """
    report = ConnectionReport()
    for connection in client.list_connections():
        report.platforms[connection.id] = connection.platform
        report.seen.append(connection)
        if "|" in connection.id:
            report.broken[connection.id] = "id contains '|', which partition keys cannot hold"
            continue
        try:
            status = client.connection_status(connection.access_token)
        except RutterError as exc:
            report.broken[connection.id] = f"status unavailable ({exc.error_code or exc.status})"
            continue
        report.statuses[connection.id] = status
        if status.is_disabled:
            report.broken[connection.id] = f"disabled ({status.disabled_reason or 'no reason given'})"
        elif status.needs_update:
            report.broken[connection.id] = "needs re-authentication by the merchant"
        elif not status.is_ready:
            report.waiting[connection.id] = "initial sync not finished"
        else:
            report.ready.append(connection)
    if engine is not None:
        with engine.begin() as tx:
            record_connections(tx, seen=report.seen, statuses=report.statuses)
    return report


def connection_sensor(partitions_def: dg.MultiPartitionsDefinition, jobs: list) -> dg.SensorDefinition:
    """The sensor that keeps the `connection` partitions in step with Rutter and requests backfills.

    Args:
        partitions_def: the (connection, month) grid of the Rutter assets.
        jobs: the family backfill jobs the sensor requests runs of.
    """

    @dg.sensor(
        name=SENSOR_NAME,
        jobs=jobs,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Registers ready Rutter connections as partitions and requests a backfill run per month.",
    )
    def _sensor(context, rutter: RutterResource, warehouse: WarehouseResource) -> dg.SensorResult:
        report = survey(rutter.client, engine=warehouse.engine)
        registered = set(context.instance.get_dynamic_partitions(CONNECTION))
        listed = {c.id for c in report.ready} | set(report.waiting) | set(report.broken)
        new = sorted({c.id for c in report.ready} - registered)
        gone = sorted(registered - listed)
        months = month_keys(partitions_def)
        requests = [
            missing.run_request()
            for connection in report.ready
            for missing in missing_months(context.instance, connection=connection, months=months)
        ]
        for connection_id, why in {**report.waiting, **report.broken}.items():
            context.log.warning(f"connection {connection_id} ({report.platforms[connection_id]}) skipped: {why}")
        partition_requests = []
        if new:
            partition_requests.append(dg.AddDynamicPartitionsRequest(CONNECTION, new))
        if gone:
            context.log.info(f"connections no longer listed by Rutter, partitions removed: {gone}")
            partition_requests.append(dg.DeleteDynamicPartitionsRequest(CONNECTION, gone))
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=partition_requests,
            cursor=report.as_cursor(),
            skip_reason=None if requests else _skip_reason(report),
        )

    return _sensor


def _skip_reason(report: ConnectionReport) -> str:
    held = report.labelled({**report.waiting, **report.broken})
    held_text = "; ".join(f"{cid} ({why})" for cid, why in sorted(held.items()))
    return f"every ready connection is backfilled ({len(report.ready)} ready)" + (
        f"; held back: {held_text}" if held else ""
    )
