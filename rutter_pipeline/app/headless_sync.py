"""`rutter-pipeline sync`: the sensor's and the schedule's work done once, through Dagster, without a daemon.

Each (connection, month) backfill and each incremental pull is a real Dagster run recorded in DAGSTER_HOME, so
the UI shows exactly what a headless sync did. Runs execute in process (no run launcher, no process per run),
which keeps Dagster's per-run overhead to about a second. Connections are synced in parallel worker processes (at
most RUTTER_MAX_CONCURRENT_RUNS and the number of CPUs), each connection's runs one after another, so a connection
never has two runs at once.
"""

from __future__ import annotations

import contextlib
import functools
import io
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import dagster as dg
import sqlalchemy as sa

from rutter_pipeline.defs import build_definitions
from rutter_pipeline.defs.backfills import ERROR_TAG, BackfillPlan, MissingMonth, plan_backfills
from rutter_pipeline.defs.checks import CHECKS_JOB
from rutter_pipeline.defs.dbt import refresh_marts_job
from rutter_pipeline.defs.incremental import incremental_job_name
from rutter_pipeline.defs.jobs import connection_tags
from rutter_pipeline.defs.metadata import FIGURES
from rutter_pipeline.defs.partitions import month_keys
from rutter_pipeline.defs.sensors import ConnectionReport, apply_partition_requests, partition_requests, survey
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.connections import Connection
from rutter_pipeline.settings import process_settings

REFRESH_MARTS_JOB = refresh_marts_job.name
#: Every run `rutter-pipeline sync` executes carries this tag; one sync runs at a time per instance, so a run
#: with it still "in progress" when a sync starts belongs to a sync process that died.
SYNC_TAG = "rutter/sync"
_IN_FLIGHT = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

#: Runs keep the console quiet (the CLI prints a line per run and the failures' causes); every event, error
#: and traceback is still stored in the instance and shown by the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class RunFigures:
    """One Dagster run of the sync and what it did."""

    connection_id: str
    job: str
    partition: str | None
    success: bool
    run_seconds: float
    sync_seconds: float = 0.0
    fetched: int = 0
    written: int = 0
    error: str = ""

    @property
    def overhead_seconds(self) -> float:
        """Time Dagster added around the sync engine's own work."""
        return max(self.run_seconds - self.sync_seconds, 0.0)


@dataclass
class SyncReport:
    """Everything one `rutter-pipeline sync` did."""

    connections: ConnectionReport
    runs: list[RunFigures] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)
    months_waiting: list[MissingMonth] = field(default_factory=list)
    abandoned_runs: int = 0
    seconds: float = 0.0

    @property
    def failed_runs(self) -> list[RunFigures]:
        """Runs that did not succeed."""
        return [run for run in self.runs if not run.success]


def sync_everything(
    *,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    client: RutterClient,
    engine: sa.Engine | None = None,
    workers: int = 1,
    refresh_marts: bool = True,
    progress: Callable[[RunFigures], None] = lambda run: None,
    source: str | None = None,
    announce: Callable[[str], None] = lambda text: None,
) -> SyncReport:
    """Register ready connections, backfill their missing months, pull their changes, check the tables.

    Call it holding `runtime.one_sync_at_a_time`: runs of an earlier sync still marked in progress are taken
    for dead and marked failed first, so they block nothing (their months are loaded again).

    Args:
        defs: the project's definitions (jobs with resources bound).
        instance: the Dagster instance the runs are recorded in.
        client: a client to survey the organisation's connections with.
        engine: the warehouse, where the connections found are recorded (`rutter._connections`) and whose
            `_sync_state` says which months are loaded.
        workers: how many connections are synced at the same time, each in its own process.
        refresh_marts: rebuild the dbt marts after the syncs (no daemon runs their sensor here).
        progress: called after each run (the CLI prints a line).
        source: recorded with the connections: `sandbox` or the Rutter API URL.
        announce: told before a step that is slow and silent (the dbt build), so the CLI can say so.

    Returns:
        The report; failures are in it, not raised, so one broken month does not hide the others' results.
    """
    started = time.monotonic()
    # Keep storage connections open between runs instead of opening one per event (Dagster's default).
    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
    abandoned = fail_abandoned_runs(instance)
    report = SyncReport(connections=survey(client, engine=engine, source=source), abandoned_runs=abandoned)
    apply_partition_requests(instance, partition_requests(instance, report.connections))
    months = month_keys(_grid(defs))
    ready = report.connections.ready
    plans = {c.id: plan_backfills(instance, engine, connection=c, months=months) for c in ready}
    report.months_waiting = [missing for plan in plans.values() for missing in plan.waiting]
    if workers > 1 and len(ready) > 1:
        # One process per connection at a time: runs of different connections overlap, one connection's never.
        sync_one = functools.partial(_sync_connection_in_worker, progress=progress)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(ready)), mp_context=spawn) as pool:
            for runs in pool.map(sync_one, ready, [plans[c.id] for c in ready]):
                report.runs.extend(runs)
    else:
        for connection in ready:
            report.runs.extend(
                sync_connection(defs, instance, connection=connection, plan=plans[connection.id], progress=progress)
            )
    report.checks_failed = _run_checks(defs, instance)
    if refresh_marts and report.runs:
        announce("Building the dbt marts (dbt build of the staging models, marts and their tests)...")
        report.runs.append(
            _execute(defs, instance, job_name=REFRESH_MARTS_JOB, connection_id="", partition=None, tags={})
        )
        progress(report.runs[-1])
    report.seconds = round(time.monotonic() - started, 2)
    return report


def fail_abandoned_runs(instance: dg.DagsterInstance) -> int:
    """Mark failed the runs of a `sync` that died (SIGKILL, OOM, power loss) while they were in progress.

    Only call this holding the sync lock: no other sync can then be running, so such runs have no process.

    Returns:
        How many runs were marked failed.
    """
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=_IN_FLIGHT, tags={SYNC_TAG: "1"}))
    for record in records:
        instance.report_run_failed(
            record.dagster_run,
            message="the rutter-pipeline sync process running this "
            "run ended before it finished; the next sync loads its months again",
        )
        instance.add_run_tags(record.dagster_run.run_id, {ERROR_TAG: "the sync process died during the run"})
    return len(records)


def sync_connection(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    connection: Connection,
    plan: BackfillPlan,
    progress: Callable[[RunFigures], None],
) -> list[RunFigures]:
    """Backfill a connection's due months, then pull its changes (per family); one run after another."""
    runs = []
    for missing in plan.due:
        runs.append(backfill_month(defs, instance, missing))
        progress(runs[-1])
    for family in connection.families:
        runs.append(
            _execute(
                defs,
                instance,
                job_name=incremental_job_name(family),
                connection_id=connection.id,
                partition=connection.id,
                tags=connection_tags(connection.id, pull="incremental"),
            )
        )
        progress(runs[-1])
    return runs


def backfill_month(defs: dg.Definitions, instance: dg.DagsterInstance, missing: MissingMonth) -> RunFigures:
    """Run one (connection, month) backfill of one family as a Dagster run."""
    request = missing.run_request()
    return _execute(
        defs,
        instance,
        job_name=missing.job_name,
        connection_id=missing.connection_id,
        partition=request.partition_key,
        tags=request.tags,
    )


def _sync_connection_in_worker(
    connection: Connection, plan: BackfillPlan, *, progress: Callable[[RunFigures], None]
) -> list[RunFigures]:
    # A spawned worker: the environment prepared by the parent (sandbox URL, storage URL) is inherited.
    defs = build_definitions(process_settings())
    with dg.DagsterInstance.get() as instance:
        instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
        return sync_connection(defs, instance, connection=connection, plan=plan, progress=progress)


def _grid(defs: dg.Definitions) -> dg.MultiPartitionsDefinition:
    # Any Rutter asset's grid will do: the families' grids share their months.
    for asset in defs.resolve_all_asset_specs():
        if isinstance(asset.partitions_def, dg.MultiPartitionsDefinition):
            return asset.partitions_def
    raise ValueError("no Rutter asset with (connection, month) partitions is defined")


def _execute(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    job_name: str,
    connection_id: str,
    partition: str | None,
    tags: dict[str, str],
) -> RunFigures:
    job = defs.resolve_job_def(job_name)
    started = time.monotonic()
    # dbt's own log lines are echoed to stdout by dagster-dbt; the run's event log keeps them for the UI.
    with contextlib.redirect_stdout(io.StringIO()):
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition,
            tags={**tags, SYNC_TAG: "1"},
            raise_on_error=False,
            run_config=QUIET,
        )
    figures = RunFigures(
        connection_id=connection_id,
        job=job_name,
        partition=partition,
        success=result.success,
        run_seconds=round(time.monotonic() - started, 3),
    )
    # An incremental pull records its figures on every month partition it wrote: count each endpoint once.
    pulls = {}
    for event in result.get_asset_materialization_events():
        value = event.materialization.metadata.get(FIGURES)
        if value is not None:
            pulls[value.value["endpoint"]] = value.value
    for pull in pulls.values():
        figures.sync_seconds += pull["seconds"]
        figures.fetched += pull["fetched"]
        figures.written += pull["written"]
    if not result.success:
        figures.error = _first_error(result)
        instance.add_run_tags(result.run_id, {ERROR_TAG: figures.error[:200]})
    return figures


def _run_checks(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[str]:
    result = defs.resolve_job_def(CHECKS_JOB).execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET, tags={SYNC_TAG: "1"}
    )
    # What and where: the table's asset, the check, and its figures (e.g. "quarantined rows: 1567").
    failed = [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name} "
        f"({', '.join(f'{name}: {value.value}' for name, value in evaluation.metadata.items())})"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    ]
    if not result.success:
        failed.append(f"{CHECKS_JOB}: {_first_error(result)}")
    return failed


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure or event.is_run_failure:
            error = getattr(event.event_specific_data, "error", None)
            # Dagster wraps the exception raised in the op; its innermost cause is the one that explains.
            while error is not None and error.cause is not None:
                error = error.cause
            if error is not None:
                return f"{error.cls_name}: {error.message.strip()}"
            return event.message or "run failed"
    return "run failed"
