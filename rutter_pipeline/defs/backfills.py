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

from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from rutter_pipeline.defs.jobs import (
    CONNECTION_TAG,
    LEGACY_WINDOWS,
    WINDOWS,
    WINDOWS_TAG,
    backfill_job_name,
    connection_tags,
)
from rutter_pipeline.defs.partitions import CONNECTION, MONTH, connection_label, families_of, partition_key
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
    #: The connection's platform and name, tagged on its runs.
    label: str = ""

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
            tags=connection_tags(self.connection_id, pull="backfill", label=self.label),
        )


#: How many months of one connection a run of the sensor covers. Each run of the daemon is a process that loads
#: the code first (seconds, on a busy machine many), so a run per month made the sensor's backfill four times
#: slower than `sync`; each month still gets its own materialization (see `assets.family_assets`).
MONTHS_PER_RUN = 6


def month_range_requests(missing: list[MissingMonth], *, months: list[str],
                         per_run: int = MONTHS_PER_RUN) -> list[dg.RunRequest]:
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
            requests.append(dg.RunRequest(
                run_key=f"{first.job_name}:{start}..{last.month}:attempt-{max(m.failures for m in run) + 1}",
                job_name=first.job_name,
                tags={**connection_tags(first.connection_id, pull="backfill", label=first.label),
                      ASSET_PARTITION_RANGE_START_TAG: str(start), ASSET_PARTITION_RANGE_END_TAG: str(end)},
            ))
    return requests


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
                missing.append(MissingMonth(connection.id, family, month, failures[month],
                                            label=connection_label(connection)))
    return missing


def _runs_by_month(instance: dg.DagsterInstance, *, family: Family, connection_id: str) -> tuple[set[str], Counter]:
    # Both families' grids name their connection dimension `connection`, so the tag is the same for either job.
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=backfill_job_name(family),
                              tags={f"dagster/partition/{CONNECTION}": connection_id})
    )
    # The sensor's runs of several months carry a range instead of a partition tag.
    records += [r for r in instance.get_run_records(
        filters=dg.RunsFilter(job_name=backfill_job_name(family), tags={CONNECTION_TAG: connection_id}))
        if ASSET_PARTITION_RANGE_START_TAG in r.dagster_run.tags]
    # A run that loaded the month under an older meaning of the window does not count: the month is loaded again.
    records = [r for r in records if r.dagster_run.tags.get(WINDOWS_TAG, LEGACY_WINDOWS[family]) == WINDOWS[family]]
    settled: set[str] = set()
    failures: Counter = Counter()
    for record in records:
        for month in _months_of(record.dagster_run.tags):
            if record.dagster_run.status in _PENDING_OR_DONE:
                settled.add(month)
            elif record.dagster_run.status in _FAILED:
                failures[month] += 1
    return settled, failures


def _months_of(tags: dict[str, str]) -> list[str]:
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
