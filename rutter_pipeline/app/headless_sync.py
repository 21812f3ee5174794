"""`rutter-pipeline sync`: one tick of the connection sensor and of the incremental schedules, run to the end.

No second copy of their rules: the sync evaluates the real `rutter_connections` sensor (which surveys the
connections, registers the ready ones as partitions and requests their missing months in ranges) and applies its
partition changes as the daemon does, executes the runs it requests, then evaluates each family's real
incremental schedule and executes its runs. Every run is a real Dagster run recorded in DAGSTER_HOME, so the UI
shows exactly what a headless sync did. Runs execute in process (no run launcher, no process per run), up to
`workers` at a time (RUTTER_MAX_CONCURRENT_RUNS and the number of CPUs): this process and worker processes that
load the definitions once, so the month ranges of one large connection load side by side. Concurrent windows of
one connection are safe: the warehouse merges each object under its version guard and backfills only lower the
incremental watermark (`sync_state.lower_watermark`).
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from rutter_pipeline.defs import build_definitions
from rutter_pipeline.defs.backfills import ERROR_TAG, MissingMonth, run_months
from rutter_pipeline.defs.checks import CHECKS_JOB
from rutter_pipeline.defs.dbt import refresh_marts_job
from rutter_pipeline.defs.jobs import CONNECTION_NAME_TAG, CONNECTION_TAG
from rutter_pipeline.defs.metadata import FIGURES
from rutter_pipeline.defs.schedules import CONNECTION_COUNT_TAG, schedule_name
from rutter_pipeline.defs.sensors import SENSOR_NAME, ConnectionReport, apply_partition_requests
from rutter_pipeline.rutter.catalog import Family
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
    #: The connection's platform and name.
    label: str = ""
    #: How many month partitions a backfill run covers.
    months: int = 0

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
    #: Months whose retry delay has not passed, described (see `MissingMonth.describe`).
    months_waiting: list[str] = field(default_factory=list)
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
    workers: int = 1,
    refresh_marts: bool = True,
    progress: Callable[[RunFigures], None] = lambda run: None,
    announce: Callable[[str], None] = lambda text: None,
) -> SyncReport:
    """Register ready connections, backfill their missing months, pull their changes, check the tables.

    Call it holding `runtime.one_sync_at_a_time`: runs of an earlier sync still marked in progress are taken
    for dead and marked failed first, so they block nothing (their months are loaded again).

    Args:
        defs: the project's definitions (sensor, schedules and jobs with resources bound).
        instance: the Dagster instance the runs are recorded in.
        workers: how many runs execute at the same time, each worker in its own process.
        refresh_marts: rebuild the dbt marts after the syncs (no daemon runs their sensor here).
        progress: called after each run (the CLI prints a line).
        announce: told before a step that is slow and silent (the dbt build), so the CLI can say so.

    Returns:
        The report; failures are in it, not raised, so one broken month does not hide the others' results.
    """
    started = time.monotonic()
    # Keep storage connections open between runs instead of opening one per event (Dagster's default).
    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
    abandoned = fail_abandoned_runs(instance)
    tick = evaluate_sensor(defs, instance, SENSOR_NAME)
    report = SyncReport(connections=ConnectionReport.from_cursor(tick.cursor), abandoned_runs=abandoned)
    report.months_waiting = ConnectionReport.months_waiting(tick.cursor)
    report.runs += execute_requests(defs, instance, tick.run_requests or [], workers=workers, progress=progress)
    pulls = [request for family in Family for request in evaluate_schedule(defs, instance, schedule_name(family))]
    report.runs += execute_requests(defs, instance, pulls, workers=workers, progress=progress)
    report.checks_failed = _run_checks(defs, instance)
    if refresh_marts and report.runs:
        announce("Building the dbt marts (dbt build of the staging models, marts and their tests)...")
        report.runs.append(_execute(defs, instance, dg.RunRequest(job_name=REFRESH_MARTS_JOB)))
        progress(report.runs[-1])
    report.seconds = round(time.monotonic() - started, 2)
    return report


def evaluate_sensor(defs: dg.Definitions, instance: dg.DagsterInstance, name: str) -> dg.SensorResult:
    """One tick of a sensor of `defs`, its partition changes applied to `instance` as the daemon applies them."""
    sensor = defs.resolve_sensor_def(name)
    # With the instance's ref, the tick resolves a one-month request against the partitions as they will be once
    # its own partition changes are applied, as the daemon resolves it.
    with dg.build_sensor_context(
        instance=instance, instance_ref=instance.get_ref(), resources=defs.resources, definitions=defs, sensor_name=name
    ) as context:
        tick = sensor.evaluate_tick(context)
    apply_partition_requests(instance, list(tick.dynamic_partitions_requests or []))
    # The connection sensor names the job of each request (it has one backfill job per family).
    return dg.SensorResult(run_requests=tick.run_requests, cursor=tick.cursor)


def evaluate_schedule(defs: dg.Definitions, instance: dg.DagsterInstance, name: str) -> list[dg.RunRequest]:
    """The run requests of one tick of a schedule of `defs`, as if it were due now."""
    schedule = defs.resolve_schedule_def(name)
    with dg.build_schedule_context(
        instance=instance,
        resources=defs.resources,
        repository_def=defs.get_repository_def(),
        scheduled_execution_time=datetime.now(UTC),
    ) as context:
        tick = schedule.evaluate_tick(context)
    return [_with_job(request, schedule.job_name) for request in tick.run_requests or []]


def execute_requests(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    requests: Sequence[dg.RunRequest],
    *,
    workers: int,
    progress: Callable[[RunFigures], None],
) -> list[RunFigures]:
    """Execute run requests as Dagster runs, `workers` at a time: this process is one worker, the others are
    processes of their own (each loads the definitions once), and each takes the next request when it is free."""
    helpers = min(workers, len(requests)) - 1
    if helpers <= 0:
        return [_execute_here(defs, instance, request, progress) for request in requests]
    waiting = deque(requests)
    runs = []
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=helpers, mp_context=spawn, initializer=_start_worker) as pool:
        running: set[Future[RunFigures]] = set()
        while waiting or running:
            while waiting and len(running) < helpers:
                running.add(pool.submit(_execute_in_worker, waiting.popleft(), progress=progress))
            if waiting:  # this process runs the next one meanwhile
                runs.append(_execute_here(defs, instance, waiting.popleft(), progress))
            else:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                runs += [future.result() for future in done]
            finished = {future for future in running if future.done()}
            runs += [future.result() for future in finished]
            running -= finished
    return runs


def _execute_here(
    defs: dg.Definitions, instance: dg.DagsterInstance, request: dg.RunRequest, progress: Callable[[RunFigures], None]
) -> RunFigures:
    figures = _execute(defs, instance, request)
    progress(figures)
    return figures


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


def backfill_month(defs: dg.Definitions, instance: dg.DagsterInstance, missing: MissingMonth) -> RunFigures:
    """Run one (connection, month) backfill of one family as a Dagster run."""
    return _execute(defs, instance, missing.run_request())


def _with_job(request: dg.RunRequest, job_name: str) -> dg.RunRequest:
    # A schedule's requests name no job: the daemon runs them as the schedule's own job.
    return request if request.job_name else request.with_replaced_attrs(job_name=job_name)


#: A worker process's definitions and instance, loaded once for all the runs it executes.
_WORKER: dict[str, object] = {}


def _start_worker() -> None:
    # A spawned worker: the environment prepared by the parent (sandbox URL, storage URL) is inherited.
    instance = dg.DagsterInstance.get()
    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
    _WORKER.update(defs=build_definitions(process_settings()), instance=instance)


def _execute_in_worker(request: dg.RunRequest, *, progress: Callable[[RunFigures], None]) -> RunFigures:
    figures = _execute(_WORKER["defs"], _WORKER["instance"], request)  # type: ignore[arg-type]
    progress(figures)
    return figures


def _execute(defs: dg.Definitions, instance: dg.DagsterInstance, request: dg.RunRequest) -> RunFigures:
    """Execute one run request in this process as a Dagster run of the instance."""
    job_name = request.job_name or ""
    job = defs.resolve_job_def(job_name)
    partition = str(request.partition_key) if request.partition_key else _range(request.tags)
    if CONNECTION_COUNT_TAG in request.tags:  # a schedule's batch: its connections are in the run config
        partition = f"{request.tags[CONNECTION_COUNT_TAG]} connection(s)"
    started = time.monotonic()
    # dbt's own log lines are echoed to stdout by dagster-dbt; the run's event log keeps them for the UI.
    with contextlib.redirect_stdout(io.StringIO()):
        result = job.execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            tags={**request.tags, SYNC_TAG: "1"},
            raise_on_error=False,
            run_config={**QUIET, **request.run_config},
        )
    figures = RunFigures(
        connection_id=request.tags.get(CONNECTION_TAG, ""),
        job=job_name,
        partition=partition,
        success=result.success,
        run_seconds=round(time.monotonic() - started, 3),
        label=request.tags.get(CONNECTION_NAME_TAG, ""),
        months=len(run_months(request.tags)) or int("|" in str(request.partition_key or "")),
    )
    # An incremental pull records its figures on every month partition it wrote, a backfill of several months
    # each month's own (with its `window`): count each connection's pull of an endpoint, or each window, once.
    pulls: dict[tuple[object, object, object], dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        value = metadata.get(FIGURES)
        if value is not None:
            pull = cast(dict[str, Any], value.value)  # a JSON entry written by the assets' `FIGURES`
            window = metadata.get("window")
            connection = metadata.get("connection")
            key = (pull["endpoint"], window.value if window else None, connection.value if connection else None)
            pulls[key] = pull
    for pull in pulls.values():
        figures.sync_seconds += pull["seconds"]
        figures.fetched += pull["fetched"]
        figures.written += pull["written"]
    if not result.success:
        figures.error = _first_error(result)
        instance.add_run_tags(result.run_id, {ERROR_TAG: figures.error[:200]})
    return figures


def _range(tags: Mapping[str, str]) -> str | None:
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    return f"{start}..{end.rsplit('|', 1)[-1]}" if start and end else None


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
