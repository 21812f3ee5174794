"""`rutter-pipeline backfill`: backfill chosen months of one connection as a Dagster backfill, in this process."""

from __future__ import annotations

import argparse
import sys

from rutter_pipeline.app.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    SANDBOX_HELP,
    open_warehouse,
    prepare_dbt,
)
from rutter_pipeline.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add `backfill` and its arguments to the command line."""
    parser = commands.add_parser("backfill", help="backfill chosen months of one connection (a Dagster backfill)")
    parser.add_argument("--connection", required=True, help="the connection id (as Rutter lists it)")
    parser.add_argument("--from", dest="first", required=True, metavar="YYYY-MM", help="first month")
    parser.add_argument("--to", dest="last", required=True, metavar="YYYY-MM", help="last month (included)")
    parser.add_argument(
        "--asset",
        dest="assets",
        action="append",
        default=[],
        metavar="KEY",
        help="only this asset, e.g. rutter/commerce/orders (repeatable; default: all of its family)",
    )
    parser.add_argument("--sandbox", action="store_true", help=SANDBOX_HELP)
    parser.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Check the arguments against Rutter and the partitions, then run the backfill and say how it went."""
    import dagster as dg

    from rutter_pipeline.app.chosen_backfill import BackfillError, grid_months, plan, run_backfill
    from rutter_pipeline.app.runtime import prepared, rutter_client
    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.rutter.errors import RutterError

    with prepared(settings) as runtime:
        prepare_dbt(runtime.settings)
        defs = build_definitions(runtime.settings)
        try:
            with rutter_client(runtime.settings) as client:
                connections = client.list_connections()
            chosen = plan(
                connections=connections,
                connection_id=args.connection,
                first=args.first,
                last=args.last,
                assets=args.assets,
                grid_months=grid_months(defs),
            )
        except BackfillError as exc:
            print(f"rutter-pipeline backfill: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except RutterError as exc:
            print(f"rutter-pipeline: cannot reach Rutter: {exc}", file=sys.stderr)
            return EXIT_FAILED
        open_warehouse(runtime.settings).dispose()  # the schema is migrated before the runs write to it

        def progress(job: str, partition: str, ok: bool, seconds: float) -> None:
            print(f"  {job} {partition}: {'ok' if ok else 'FAILED'} ({seconds:.1f} s)", flush=True)

        with dg.DagsterInstance.get() as instance:
            print(
                f"Backfilling {len(chosen.months)} month(s) of {chosen.connection.id} "
                f"({chosen.connection.platform} {chosen.connection.name or ''}".rstrip()
                + ")",
                flush=True,
            )
            outcome = run_backfill(defs, instance, chosen, progress=progress)
        print(
            f"Backfill {outcome.backfill_id}: {len(outcome.runs) - len(outcome.failed)} of {len(outcome.runs)} "
            "runs succeeded; see it on the Backfills page of `rutter-pipeline dev`."
        )
        if outcome.failed:
            print(f"rutter-pipeline backfill: failed: {', '.join(outcome.failed)}", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK
