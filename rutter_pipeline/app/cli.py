"""`rutter-pipeline`: run the sandbox, the Dagster UI, a headless sync, or the webhook receiver.

    rutter-pipeline sandbox --port 8765 [--seed 7] [--big-orders N] [--connections N] [--no-connection-details]
    rutter-pipeline dev [--port 3000] [--sandbox] [--webhooks-port 8787 [--webhooks-host 127.0.0.1]]
    rutter-pipeline sync [--sandbox]
    rutter-pipeline backfill --connection ID --from 2025-01 --to 2025-03 [--asset rutter/commerce/orders ...]
    rutter-pipeline repull --connection ID --month YYYY-MM [--sandbox]
    rutter-pipeline reload-quarantine [--connection ID]
    rutter-pipeline db [--print]
    rutter-pipeline webhooks --port 8787 [--host 127.0.0.1] [--sandbox]

The built-in sandbox stands in for Rutter only when chosen (`--sandbox` or RUTTER_SANDBOX=1), or in the
zero-configuration demo (no Rutter credentials and no WAREHOUSE_URL); the first line of output says so.
Exit status: 0 success, 1 a run or check failed (or another sync is running), 2 bad arguments, environment
variables or database connection settings.

Each command lives in its own module of `rutter_pipeline.app.commands`; this one wires them into one parser.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence

from rutter_pipeline.app.commands import backfill, db, dev, reload_quarantine, sandbox, sync, webhooks
from rutter_pipeline.app.commands.common import EXIT_USAGE
from rutter_pipeline.settings import SettingsError, process_settings, shown_url

#: The commands whose first line says that the built-in sandbox stands in for Rutter, and where data goes.
ANNOUNCE_SANDBOX = ("dev", "sync", "repull", "backfill")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rutter-pipeline` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Dagster flags its beta and preview parameters on every definition load: noise for someone running a command.
    warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
    if args.command == "sandbox":
        return sandbox.run(args)
    from rutter_pipeline.app.runtime import UnreachableDatabase

    try:
        settings = process_settings(sandbox=getattr(args, "sandbox", False))
        if settings.uses_sandbox and args.command in ANNOUNCE_SANDBOX:
            where = shown_url(settings.warehouse_url) if settings.warehouse_url else "the embedded PostgreSQL"
            print(
                f"Using the built-in Rutter sandbox ({settings.sandbox_reason}): its invented companies are "
                f"loaded into {where}",
                flush=True,
            )
        status: int = args.run(settings, args)
        return status
    except (SettingsError, UnreachableDatabase) as exc:
        print(f"rutter-pipeline: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rutter-pipeline", description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    # In the order `--help` lists them; each sets `run`, which `main` calls with the settings and the arguments.
    sandbox.add_parser(commands)
    dev.add_parser(commands)
    webhooks.add_parser(commands)
    sync.add_sync_parser(commands)
    backfill.add_parser(commands)
    db.add_parser(commands)
    sync.add_repull_parser(commands)
    reload_quarantine.add_parser(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
