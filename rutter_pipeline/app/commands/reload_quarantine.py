"""`rutter-pipeline reload-quarantine`: load the quarantined rows again, after their cause was fixed."""

from __future__ import annotations

import argparse

from rutter_pipeline.app.commands.common import EXIT_FAILED, EXIT_OK, open_warehouse
from rutter_pipeline.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add `reload-quarantine` and its arguments to the command line."""
    parser = commands.add_parser("reload-quarantine", help="load the quarantined rows again (after fixing the cause)")
    parser.add_argument("--connection", help="only this connection's rows")
    parser.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Try every quarantined row (of `--connection`) again; exit 1 if any is quarantined again."""
    from rutter_pipeline.sync.reload import reload_quarantine

    engine = open_warehouse(settings)
    try:
        summary = reload_quarantine(engine, connection_id=args.connection)
    finally:
        engine.dispose()
    print(
        f"{summary.tried} quarantined rows tried: {summary.loaded} loaded, {summary.quarantined_again} "
        "quarantined again (see rutter._quarantine.reason)"
    )
    return EXIT_FAILED if summary.quarantined_again else EXIT_OK
