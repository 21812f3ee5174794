"""`rutter-pipeline sync` (every missing month and the changes of every ready connection, then exit) and
`rutter-pipeline repull` (one month of one connection again, now): the headless sync, one at a time."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from rutter_pipeline.app.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    SANDBOX_HELP,
    lost_connection,
    month,
    open_warehouse,
    prepare_dbt,
)
from rutter_pipeline.settings import Settings

if TYPE_CHECKING:
    import dagster as dg


def add_sync_parser(commands: argparse._SubParsersAction) -> None:
    """Add `sync` and its arguments to the command line."""
    parser = commands.add_parser(
        "sync", help="backfill missing months and pull changes of every ready connection, then exit"
    )
    parser.add_argument("--sandbox", action="store_true", help=SANDBOX_HELP)
    parser.set_defaults(run=run_sync)


def add_repull_parser(commands: argparse._SubParsersAction) -> None:
    """Add `repull` and its arguments to the command line."""
    parser = commands.add_parser("repull", help="backfill one month of one connection again, now")
    parser.add_argument("--connection", required=True, help="the Rutter connection id")
    parser.add_argument("--month", required=True, type=month, help="the month, YYYY-MM")
    parser.add_argument("--sandbox", action="store_true", help=SANDBOX_HELP)
    parser.set_defaults(run=run_repull)


def run_sync(settings: Settings, args: argparse.Namespace) -> int:
    """Survey, backfill, pull and check everything as Dagster runs in this process; print the summary."""
    import dagster as dg
    import sqlalchemy as sa

    from rutter_pipeline.app.headless_sync import sync_everything
    from rutter_pipeline.app.report import print_progress, print_report
    from rutter_pipeline.app.runtime import SyncAlreadyRunning, one_sync_at_a_time, prepared
    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.rutter.errors import RutterError

    with prepared(settings) as runtime:
        try:
            with one_sync_at_a_time(runtime.dagster_storage_url):
                prepare_dbt(runtime.settings)
                defs = build_definitions(runtime.settings)
                # The schema up to date before the sensor records the connections it finds.
                open_warehouse(runtime.settings).dispose()
                with dg.DagsterInstance.get() as instance:
                    report = sync_everything(
                        defs=defs,
                        instance=instance,
                        workers=min(runtime.settings.max_concurrent_runs, os.cpu_count() or 1),
                        refresh_marts=runtime.settings.refresh_marts,
                        progress=print_progress,
                        announce=lambda text: print(text, flush=True),
                    )
        except SyncAlreadyRunning as exc:
            print(
                f"rutter-pipeline: {exc}; wait for it to finish (one sync at a time per Dagster instance)",
                file=sys.stderr,
            )
            return EXIT_FAILED
        except RutterError as exc:
            print(f"rutter-pipeline: cannot reach Rutter: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except (sa.exc.DBAPIError, sa.exc.PendingRollbackError) as exc:
            print(f"rutter-pipeline: {lost_connection(exc)}", file=sys.stderr)
            return EXIT_FAILED
    status = print_report(report)
    if not settings.warehouse_url:
        print("Query the warehouse: `rutter-pipeline db` (psql on the embedded PostgreSQL, database `rutter`)")
    return status


def run_repull(settings: Settings, args: argparse.Namespace) -> int:
    """Backfill `--month` of `--connection` again, one run per family it fills, whatever was loaded before."""
    import dagster as dg

    from rutter_pipeline.app.headless_sync import backfill_month
    from rutter_pipeline.app.report import print_progress
    from rutter_pipeline.app.runtime import SyncAlreadyRunning, one_sync_at_a_time, prepared, rutter_client
    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.defs.backfills import MissingMonth
    from rutter_pipeline.defs.partitions import month_keys

    connection_id, wanted = args.connection, args.month
    with prepared(settings) as runtime:
        prepare_dbt(runtime.settings)
        defs = build_definitions(runtime.settings)
        engine = open_warehouse(runtime.settings)
        try:
            with (
                one_sync_at_a_time(runtime.dagster_storage_url),
                dg.DagsterInstance.get() as instance,
                rutter_client(runtime.settings) as client,
            ):
                connection = next((c for c in client.list_connections() if c.id == connection_id), None)
                if connection is None:
                    print(f"rutter-pipeline: Rutter lists no connection {connection_id!r}", file=sys.stderr)
                    return EXIT_USAGE
                grid = next(
                    a.partitions_def
                    for a in defs.resolve_all_asset_specs()
                    if isinstance(a.partitions_def, dg.MultiPartitionsDefinition)
                )
                if wanted not in month_keys(grid):
                    print(
                        f"rutter-pipeline: {wanted} is not a month partition (RUTTER_HISTORY_START to now)",
                        file=sys.stderr,
                    )
                    return EXIT_USAGE
                runs = [
                    backfill_month(
                        defs,
                        instance,
                        MissingMonth(connection.id, family, wanted, runs=_run_count(instance, connection.id, wanted)),
                    )
                    for family in connection.families
                ]
        except SyncAlreadyRunning as exc:
            print(f"rutter-pipeline: {exc}; wait for it to finish", file=sys.stderr)
            return EXIT_FAILED
        finally:
            engine.dispose()
    for run in runs:
        print_progress(run)
    return EXIT_OK if all(run.success for run in runs) else EXIT_FAILED


def _run_count(instance: dg.DagsterInstance, connection_id: str, month: str) -> int:
    """How many runs the instance holds of this connection's month (the next run key counts on from it)."""
    import dagster as dg

    return len(
        instance.get_run_records(
            filters=dg.RunsFilter(
                tags={"dagster/partition/connection": connection_id, "dagster/partition/month": month}
            )
        )
    )
