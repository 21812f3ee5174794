"""Which month partitions of a connection still need a backfill, read from the Dagster instance's runs.

Shared by the connection sensor and `rutter-pipeline sync`, so both agree on what "loaded" means: a month is
loaded when a backfill run of the family's job succeeded for that (connection, month). Incremental runs do not
count, even when they wrote rows into the month, because they only bring changes since a watermark; nor do
backfill runs that loaded the month under an older meaning of the window (tag `rutter/windows`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import dagster as dg

from rutter_pipeline.defs.jobs import LEGACY_WINDOWS, WINDOWS, WINDOWS_TAG, backfill_job_name, connection_tags
from rutter_pipeline.defs.partitions import CONNECTION, MONTH, families_of, partition_key
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.rutter.connections import Connection

#: A month whose backfill failed this often is not requested again automatically (it needs a look).
MAX_ATTEMPTS = 3

_PENDING_OR_DONE = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
}
_FAILED = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class MissingMonth:
    """A (connection, month) of one family whose backfill has not succeeded yet."""

    connection_id: str
    family: Family
    month: str
    failures: int

    @property
    def job_name(self) -> str:
        """The family's backfill job."""
        return backfill_job_name(self.family)

    def run_request(self) -> dg.RunRequest:
        """A run request for this month; the run key changes after each failure so a failed month is retried."""
        key = partition_key(self.connection_id, self.month)
        return dg.RunRequest(
            run_key=f"{self.job_name}:{key}:attempt-{self.failures + 1}",
            job_name=self.job_name,
            partition_key=key,
            tags=connection_tags(self.connection_id, pull="backfill"),
        )


def missing_months(
    instance: dg.DagsterInstance, *, connection: Connection, months: list[str]
) -> list[MissingMonth]:
    """The months of a connection still to backfill, per family, oldest first.

    Months with a successful or still pending run are done or on their way; months that failed
    `MAX_ATTEMPTS` times are left out so a broken month does not retry forever.
    """
    missing = []
    for family in families_of(connection):
        settled, failures = _runs_by_month(instance, family=family, connection_id=connection.id)
        for month in months:
            if month not in settled and failures[month] < MAX_ATTEMPTS:
                missing.append(MissingMonth(connection.id, family, month, failures[month]))
    return missing


def _runs_by_month(instance: dg.DagsterInstance, *, family: Family, connection_id: str) -> tuple[set[str], Counter]:
    # Both families' grids name their connection dimension `connection`, so the tag is the same for either job.
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=backfill_job_name(family),
                              tags={f"dagster/partition/{CONNECTION}": connection_id})
    )
    # A run that loaded the month under an older meaning of the window does not count: the month is loaded again.
    records = [r for r in records if r.dagster_run.tags.get(WINDOWS_TAG, LEGACY_WINDOWS[family]) == WINDOWS[family]]
    settled: set[str] = set()
    failures: Counter = Counter()
    for record in records:
        month = record.dagster_run.tags.get(f"dagster/partition/{MONTH}")
        if month is None:
            continue
        if record.dagster_run.status in _PENDING_OR_DONE:
            settled.add(month)
        elif record.dagster_run.status in _FAILED:
            failures[month] += 1
    return settled, failures
