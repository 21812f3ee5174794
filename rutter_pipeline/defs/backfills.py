"""Which month partitions of a connection still need a backfill: read from the warehouse, retried with backoff.

Shared by the connection sensor and `rutter-pipeline sync`, so both agree on what "loaded" means: a month is
loaded when the warehouse records (`backfill:<table>:<month>` in `rutter._sync_state`) a completed backfill of
every endpoint of the family the connection's platform serves. The record is written with the rows, so a new or
restored warehouse, or a month whose backfill died with its process, is loaded again. Incremental pulls do not
count, even when they wrote rows into the month, because they only bring changes since a watermark.

Dagster's run history only says what is in flight and how often a month failed: a month with a run queued or
running is left alone, and a month that failed is retried with a growing delay (`retry_delay`) and reported on
every sync until it loads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs.jobs import backfill_job_name, connection_tags
from rutter_pipeline.defs.partitions import CONNECTION, MONTH, families_of, partition_key
from rutter_pipeline.rutter.catalog import Family, endpoints_for
from rutter_pipeline.rutter.connections import Connection, serves
from rutter_pipeline.warehouse import sync_state

#: After the second failure in a row a month waits before its next try: 5 min, 10 min, 20 min, ... up to 6 h.
FIRST_DELAY = timedelta(minutes=5)
LONGEST_DELAY = timedelta(hours=6)

_IN_FLIGHT = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
}
_FAILED = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class MissingMonth:
    """A (connection, month) of one family that the warehouse does not hold yet.

    Attributes:
        failures: failed backfill runs of this month since its last successful one.
        runs: every backfill run of this month recorded in the instance (keeps run keys unique).
        last_error: what the latest failed run said, if any.
        retry_at: when the month is due again after failures (None: due now).
    """

    connection_id: str
    family: Family
    month: str
    failures: int = 0
    runs: int = 0
    last_error: str = ""
    retry_at: datetime | None = None

    @property
    def job_name(self) -> str:
        """The family's backfill job."""
        return backfill_job_name(self.family)

    def run_request(self) -> dg.RunRequest:
        """A run request for this month; the run key counts the month's runs so every retry is a new request."""
        key = partition_key(self.connection_id, self.month)
        return dg.RunRequest(
            run_key=f"{self.job_name}:{key}:run-{self.runs + 1}",
            job_name=self.job_name,
            partition_key=key,
            tags=connection_tags(self.connection_id, pull="backfill"),
        )

    def describe(self) -> str:
        """One line for the report: which month, how often it failed, why, and when it is tried again."""
        when = "now" if self.retry_at is None else self.retry_at.strftime("%Y-%m-%d %H:%M UTC")
        return (f"{self.family.value} {self.month} of {self.connection_id}: failed {self.failures} time(s)"
                f"{f' ({self.last_error})' if self.last_error else ''}; next try {when}, or now with "
                f"`rutter-pipeline repull --connection {self.connection_id} --month {self.month}`")


@dataclass
class BackfillPlan:
    """The months of a connection not in the warehouse: due now, or waiting for their retry delay."""

    due: list[MissingMonth] = field(default_factory=list)
    waiting: list[MissingMonth] = field(default_factory=list)


def retry_delay(failures: int) -> timedelta:
    """How long a month that failed `failures` times in a row waits: none after one failure, then doubling."""
    if failures < 2:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** (failures - 2), LONGEST_DELAY)


def plan_backfills(
    instance: dg.DagsterInstance,
    engine: sa.Engine,
    *,
    connection: Connection,
    months: list[str],
    now: datetime | None = None,
) -> BackfillPlan:
    """The months of a connection still to backfill, per family, oldest first.

    Args:
        instance: the Dagster instance (runs in flight, failures).
        engine: the warehouse, whose `_sync_state` says which months are loaded.
        connection: the connection.
        months: every month partition key, oldest first.
        now: the current time (for tests).
    """
    now = now or datetime.now(timezone.utc)
    with engine.connect() as conn:
        loaded = sync_state.backfilled(conn, connection_id=connection.id)
    plan = BackfillPlan()
    for family in families_of(connection):
        tables = [e.name for e in endpoints_for(family) if serves(connection, e)]
        history = _history(instance, job_name=backfill_job_name(family), connection_id=connection.id)
        for month in months:
            if all(month in loaded.get(table, ()) for table in tables):
                continue
            runs = history.get(month, [])
            if any(run.dagster_run.status in _IN_FLIGHT for run in runs):
                continue
            missing = _missing(connection.id, family, month, runs)
            (plan.due if missing.retry_at is None or missing.retry_at <= now else plan.waiting).append(missing)
    return plan


def _missing(connection_id: str, family: Family, month: str, runs: list[dg.RunRecord]) -> MissingMonth:
    # `runs` are newest first: the failures that count are those since the last success.
    failed = []
    for record in runs:
        if record.dagster_run.status is dg.DagsterRunStatus.SUCCESS:
            break
        if record.dagster_run.status in _FAILED:
            failed.append(record)
    if not failed:
        return MissingMonth(connection_id, family, month, runs=len(runs))
    latest = failed[0]
    ended = latest.end_time or latest.update_timestamp.timestamp()
    retry_at = datetime.fromtimestamp(ended, timezone.utc) + retry_delay(len(failed))
    return MissingMonth(connection_id, family, month, failures=len(failed), runs=len(runs),
                        last_error=latest.dagster_run.tags.get(ERROR_TAG, ""),
                        retry_at=retry_at if len(failed) >= 2 else None)


#: Tag `rutter-pipeline sync` puts on a failed run: the first line of why (shown when the month is retried).
ERROR_TAG = "rutter/error"


def _history(instance: dg.DagsterInstance, *, job_name: str, connection_id: str) -> dict[str, list[dg.RunRecord]]:
    # Both families' grids name their connection dimension `connection`, so the tag is the same for either job.
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, tags={f"dagster/partition/{CONNECTION}": connection_id})
    )
    by_month: dict[str, list[dg.RunRecord]] = defaultdict(list)
    for record in records:  # newest first
        month = record.dagster_run.tags.get(f"dagster/partition/{MONTH}")
        if month is not None:
            by_month[month].append(record)
    return by_month
