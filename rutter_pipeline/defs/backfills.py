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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from rutter_pipeline.defs.jobs import CONNECTION_TAG, backfill_job_name, connection_tags
from rutter_pipeline.defs.partitions import CONNECTION, MONTH, connection_label, partition_key
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
    #: The connection's platform and name, tagged on its runs.
    label: str = ""

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
            tags=connection_tags(self.connection_id, pull="backfill", label=self.label),
        )

    def describe(self) -> str:
        """One line for the report: which month, how often it failed, why, and when it is tried again."""
        when = "now" if self.retry_at is None else self.retry_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{self.family.value} {self.month} of {self.connection_id}: failed {self.failures} time(s)"
            f"{f' ({self.last_error})' if self.last_error else ''}; next try {when}, or now with "
            f"`rutter-pipeline repull --connection {self.connection_id} --month {self.month}`"
        )


#: How many months of one connection a run of the sensor covers. Each run of the daemon is a process that loads
#: the code first (seconds, on a busy machine many), so a run per month made the sensor's backfill four times
#: slower than `sync`; each month still gets its own materialization (see `assets.family_assets`).
MONTHS_PER_RUN = 6


def month_range_requests(
    missing: list[MissingMonth], *, months: list[str], per_run: int = MONTHS_PER_RUN
) -> list[dg.RunRequest]:
    """Run requests covering the missing months in ranges of up to `per_run` consecutive months.

    Months are grouped per (connection, family) and only while consecutive in `months` (the grid's month keys),
    so a range never covers a month that is loaded already. A range of one month is a plain partition run.
    """
    position = {month: index for index, month in enumerate(months)}
    groups: dict[tuple[str, Family], list[list[MissingMonth]]] = {}
    for item in sorted(missing, key=lambda m: (m.connection_id, m.family.value, position[m.month])):
        runs = groups.setdefault((item.connection_id, item.family), [])
        last = runs[-1][-1] if runs else None
        if last is not None and position[item.month] == position[last.month] + 1 and len(runs[-1]) < per_run:
            runs[-1].append(item)
        else:
            runs.append([item])
    requests = []
    for runs in groups.values():
        for run in runs:
            first, last = run[0], run[-1]
            if first is last:
                requests.append(first.run_request())
                continue
            start = partition_key(first.connection_id, first.month)
            end = partition_key(last.connection_id, last.month)
            requests.append(
                dg.RunRequest(
                    run_key=f"{first.job_name}:{start}..{last.month}:run-{max(m.runs for m in run) + 1}",
                    job_name=first.job_name,
                    tags={
                        **connection_tags(first.connection_id, pull="backfill", label=first.label),
                        ASSET_PARTITION_RANGE_START_TAG: str(start),
                        ASSET_PARTITION_RANGE_END_TAG: str(end),
                    },
                )
            )
    return requests


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
    """The months of a connection still to backfill, per family, oldest first (see `plan_all_backfills`)."""
    return plan_all_backfills(instance, engine, connections=[connection], months=months, now=now)[connection.id]


def plan_all_backfills(
    instance: dg.DagsterInstance,
    engine: sa.Engine,
    *,
    connections: Sequence[Connection],
    months: list[str],
    now: datetime | None = None,
) -> dict[str, BackfillPlan]:
    """The months of each connection still to backfill, per family, oldest first, by connection id.

    The warehouse's loaded months are read in one query per 1,000 connections, and the run history only of the
    connections that miss a month, in two queries per family and 500 connections: a sensor tick at thousands of
    connections must stay inside Dagster's 60 s limit, which a query per connection does not.

    Args:
        instance: the Dagster instance (runs in flight, failures).
        engine: the warehouse, whose `_sync_state` says which months are loaded.
        connections: the connections (ids unique).
        months: every month partition key, oldest first.
        now: the current time (for tests).
    """
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        loaded = sync_state.backfilled_by_connection(conn, connection_ids=[c.id for c in connections])
    unloaded: dict[tuple[str, Family], list[str]] = {}
    for connection in connections:
        for family in connection.families:
            tables = [e.name for e in endpoints_for(family) if serves(connection, e)]
            done = loaded[connection.id]
            months_missing = [m for m in months if not all(m in done.get(table, ()) for table in tables)]
            if months_missing:
                unloaded[(connection.id, family)] = months_missing
    histories = {
        family: _histories(
            instance, job_name=backfill_job_name(family), connection_ids={cid for cid, f in unloaded if f is family}
        )
        for family in {f for _, f in unloaded}
    }
    plans = {connection.id: BackfillPlan() for connection in connections}
    for connection in connections:
        plan = plans[connection.id]
        for family in connection.families:
            history = histories.get(family, {}).get(connection.id, {})
            for month in unloaded.get((connection.id, family), []):
                runs = history.get(month, [])
                if any(run.dagster_run.status in _IN_FLIGHT for run in runs):
                    continue
                missing = _missing(connection, family, month, runs)
                (plan.due if missing.retry_at is None or missing.retry_at <= now else plan.waiting).append(missing)
    return plans


def _missing(connection: Connection, family: Family, month: str, runs: list[dg.RunRecord]) -> MissingMonth:
    # `runs` are newest first: the failures that count are those since the last success.
    failed = []
    for record in runs:
        if record.dagster_run.status is dg.DagsterRunStatus.SUCCESS:
            break
        if record.dagster_run.status in _FAILED:
            failed.append(record)
    if not failed:
        return MissingMonth(connection.id, family, month, runs=len(runs), label=connection_label(connection))
    latest = failed[0]
    ended = latest.end_time or latest.update_timestamp.timestamp()
    retry_at = datetime.fromtimestamp(ended, UTC) + retry_delay(len(failed))
    return MissingMonth(
        connection.id,
        family,
        month,
        failures=len(failed),
        runs=len(runs),
        last_error=latest.dagster_run.tags.get(ERROR_TAG, ""),
        retry_at=retry_at if len(failed) >= 2 else None,
        label=connection_label(connection),
    )


#: Tag `rutter-pipeline sync` puts on a failed run: the first line of why (shown when the month is retried).
ERROR_TAG = "rutter/error"


#: Connections per run-history query (tag values in one `IN (...)`): inside SQLite's limit on bound parameters.
_CONNECTIONS_PER_QUERY = 500


def _histories(
    instance: dg.DagsterInstance, *, job_name: str, connection_ids: set[str]
) -> dict[str, dict[str, list[dg.RunRecord]]]:
    """Each connection's backfill runs of the job by month, newest first: `{connection_id: {month: [run, ...]}}`."""
    # Both families' grids name their connection dimension `connection`, so the tag is the same for either job.
    partition_tag = f"dagster/partition/{CONNECTION}"
    found: dict[str, tuple[str, dg.RunRecord]] = {}
    ids = sorted(connection_ids)
    for start in range(0, len(ids), _CONNECTIONS_PER_QUERY):
        chunk = ids[start : start + _CONNECTIONS_PER_QUERY]
        for record in instance.get_run_records(filters=dg.RunsFilter(job_name=job_name, tags={partition_tag: chunk})):
            found[record.dagster_run.run_id] = (record.dagster_run.tags[partition_tag], record)
        # The sensor's runs of several months carry a range instead of a partition tag.
        for record in instance.get_run_records(filters=dg.RunsFilter(job_name=job_name, tags={CONNECTION_TAG: chunk})):
            if ASSET_PARTITION_RANGE_START_TAG in record.dagster_run.tags:
                found.setdefault(record.dagster_run.run_id, (record.dagster_run.tags[CONNECTION_TAG], record))
    by_connection: dict[str, dict[str, list[dg.RunRecord]]] = defaultdict(lambda: defaultdict(list))
    for connection_id, record in sorted(found.values(), key=lambda item: item[1].create_timestamp, reverse=True):
        for month in run_months(record.dagster_run.tags):  # newest first
            by_connection[connection_id][month].append(record)
    return by_connection


def run_months(tags: Mapping[str, str]) -> list[str]:
    """The months a run targets: its month partition, or every month of its range (`first..last`)."""
    if f"dagster/partition/{MONTH}" in tags:
        return [tags[f"dagster/partition/{MONTH}"]]
    if ASSET_PARTITION_RANGE_START_TAG not in tags:
        return []
    first = tags[ASSET_PARTITION_RANGE_START_TAG].rsplit("|", 1)[-1]
    last = tags[ASSET_PARTITION_RANGE_END_TAG].rsplit("|", 1)[-1]
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(_index(first), _index(last) + 1)]


def _index(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1
