"""What `rutter-pipeline sync` prints: a line per run while it works, a summary table at the end."""

from __future__ import annotations

import sys
from collections import defaultdict

from tabulate import tabulate

from rutter_pipeline.app.headless_sync import REFRESH_MARTS_JOB, RunFigures, SyncReport
from rutter_pipeline.defs.incremental import INCREMENTAL_SUFFIX


def print_progress(run: RunFigures) -> None:
    """One line per finished run."""
    outcome = "ok" if run.success else f"FAILED: {run.error}"
    if run.partition is None:  # the marts: no partition, no Rutter rows
        print(f"  {run.job}: {run.run_seconds:.2f}s — {outcome}", flush=True)
        return
    print(
        f"  {run.job} {run.partition}: {run.fetched} fetched, {run.written} written, "
        f"{run.run_seconds:.2f}s — {outcome}",
        flush=True,
    )


def print_report(report: SyncReport) -> int:
    """Print the summary and say what failed; returns the exit status.

    0 when everything is loaded and every check passed; 1 when a run failed, a month is still missing (waiting
    for its retry) or a check did not pass (quarantined rows, duplicates, stale data), each named on stderr.
    """
    print()
    print(tabulate(_rows(report), headers="keys", tablefmt="github"))
    backfills = [run for run in report.runs if is_backfill(run) and run.success]
    if backfills:
        overhead = sum(run.overhead_seconds for run in backfills) / len(backfills)
        print(
            f"\n{len(report.runs)} runs in {report.seconds:.1f}s; Dagster overhead per backfill run "
            f"{overhead:.2f}s (run time minus the sync engine's own time)"
        )
    for connection_id in sorted(report.connections.waiting):
        print(f"waiting: {connection_id} is not ready yet; it is picked up once ready")
    for run in report.runs:
        if run.job == REFRESH_MARTS_JOB:
            print(f"dbt marts refreshed in {run.run_seconds:.1f}s" if run.success else "dbt marts NOT refreshed")
    if report.abandoned_runs:
        print(
            f"{report.abandoned_runs} run(s) left in progress by a sync process that died were marked failed; "
            "their months were loaded again"
        )
    for run in report.failed_runs:
        print(f"rutter-pipeline: {run.job} {run.partition} failed: {run.error}", file=sys.stderr)
    for described in report.months_waiting:
        print(f"rutter-pipeline: month not loaded: {described}", file=sys.stderr)
    for check in report.checks_failed:
        print(f"rutter-pipeline: check not passed: {check}", file=sys.stderr)
    return 1 if report.failed_runs or report.months_waiting or report.checks_failed else 0


def is_backfill(run: RunFigures) -> bool:
    """Whether the run is a (connection, month) backfill."""
    return run.job.endswith("_backfill")


def is_incremental(run: RunFigures) -> bool:
    """Whether the run is an incremental pull (of either family)."""
    return run.job.endswith(INCREMENTAL_SUFFIX)


def _rows(report: SyncReport) -> list[dict[str, object]]:
    by_connection: dict[str, list[RunFigures]] = defaultdict(list)
    for run in report.runs:
        if run.connection_id:
            by_connection[run.connection_id].append(run)
    platforms = report.connections.platforms
    rows = []
    for connection_id, runs in sorted(by_connection.items()):
        backfills = [run for run in runs if is_backfill(run)]
        rows.append(
            {
                "connection": connection_id,
                "platform": platforms.get(connection_id) or runs[0].label.partition(" ")[0],
                "months backfilled": sum(run.months for run in backfills if run.success),
                "rows fetched": sum(run.fetched for run in runs),
                "rows written": sum(run.written for run in runs),
                "incremental": "ok" if all(r.success for r in runs if is_incremental(r)) else "failed",
                "failed runs": sum(not run.success for run in runs),
                "seconds": round(sum(run.run_seconds for run in runs), 1),
            }
        )
    for connection_id, why in {**report.connections.waiting, **report.connections.broken}.items():
        rows.append({"connection": connection_id, "platform": platforms.get(connection_id, ""), "incremental": why})
    return rows
