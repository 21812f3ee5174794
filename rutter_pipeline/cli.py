"""`rutter-pipeline`: run the sandbox, the Dagster UI, a headless sync, or the webhook receiver.

    rutter-pipeline sandbox --port 8765 [--seed 7] [--big-orders N] [--no-connection-details]
    rutter-pipeline dev [--port 3000] [--sandbox]
    rutter-pipeline sync [--sandbox]
    rutter-pipeline repull --connection ID --month YYYY-MM [--sandbox]
    rutter-pipeline reload-quarantine [--connection ID]
    rutter-pipeline webhooks --port 8787 [--host 127.0.0.1]

The built-in sandbox stands in for Rutter only when chosen (`--sandbox` or RUTTER_SANDBOX=1), or in the
zero-configuration demo (no Rutter credentials and no WAREHOUSE_URL); the first line of output says so.
Exit status: 0 success, 1 a run or check failed (or another sync is running), 2 bad arguments, environment
variables or database connection settings.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rutter_pipeline.settings import Settings, SettingsError, shown_url

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rutter-pipeline` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "sandbox":
        return _sandbox(args)
    from rutter_pipeline.defs.runtime import UnreachableDatabase

    try:
        settings = Settings.from_env(os.environ, sandbox=getattr(args, "sandbox", False))
        if settings.uses_sandbox and args.command in ("dev", "sync", "repull"):
            where = shown_url(settings.warehouse_url) if settings.warehouse_url else "the embedded PostgreSQL"
            print(f"Using the built-in Rutter sandbox ({settings.sandbox_reason}): its invented companies are "
                  f"loaded into {where}", flush=True)
        commands = {
            "webhooks": lambda: _webhooks(settings, host=args.host, port=args.port),
            "dev": lambda: _dev(settings, port=args.port),
            "sync": lambda: _sync(settings),
            "repull": lambda: _repull(settings, connection_id=args.connection, month=args.month),
            "reload-quarantine": lambda: _reload_quarantine(settings, connection_id=args.connection),
        }
        return commands[args.command]()
    except (SettingsError, UnreachableDatabase) as exc:
        print(f"rutter-pipeline: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rutter-pipeline", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="serve the offline Rutter sandbox over HTTP")
    sandbox.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=_port, required=True, help="TCP port (1-65535)")
    sandbox.add_argument("--seed", type=_non_negative, default=7, help="seed of the generated data (default 7)")
    sandbox.add_argument("--big-orders", type=_non_negative, default=0,
                         help="add a Shopify connection with this many orders")
    sandbox.add_argument("--no-connection-details", action="store_true",
                         help="answer GET /connections/access_token with 404, as Rutter does for some platforms")
    chosen = "use the built-in sandbox instead of Rutter (also RUTTER_SANDBOX=1)"
    dev = commands.add_parser("dev", help="start the Dagster UI and daemon")
    dev.add_argument("--port", type=_port, default=3000, help="UI port (default 3000)")
    dev.add_argument("--sandbox", action="store_true", help=chosen)
    webhooks = commands.add_parser("webhooks", help="receive Rutter webhooks and apply commerce deletions")
    webhooks.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    webhooks.add_argument("--port", type=_port, required=True, help="TCP port (1-65535)")
    sync = commands.add_parser("sync", help="backfill missing months and pull changes of every ready connection, "
                               "then exit")
    sync.add_argument("--sandbox", action="store_true", help=chosen)
    repull = commands.add_parser("repull", help="backfill one month of one connection again, now")
    repull.add_argument("--connection", required=True, help="the Rutter connection id")
    repull.add_argument("--month", required=True, type=_month, help="the month, YYYY-MM")
    repull.add_argument("--sandbox", action="store_true", help=chosen)
    reload = commands.add_parser("reload-quarantine", help="load the quarantined rows again (after fixing the cause)")
    reload.add_argument("--connection", help="only this connection's rows")
    return parser


def _month(text: str) -> str:
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit() or not 1 <= int(text[5:]) <= 12:
        raise argparse.ArgumentTypeError(f"a month is YYYY-MM, e.g. 2025-03, got {text!r}")
    return text


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port must be a number from 1 to 65535, got {text!r}")
    return int(text)


def _non_negative(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _sandbox(args: argparse.Namespace) -> int:
    from rutter_pipeline.sandbox import serve_forever

    # serve_forever prints the base URL and the connections' access tokens, and returns on Ctrl-C.
    serve_forever(host=args.host, port=args.port, seed=args.seed, big_orders=args.big_orders,
                  connection_details=not args.no_connection_details)
    return 0


def _dev(settings: Settings, *, port: int) -> int:
    from rutter_pipeline.defs.runtime import prepared

    with prepared(settings) as runtime:
        _prepare_dbt()
        if runtime.sandbox_url:
            print(f"The built-in sandbox serves {runtime.sandbox_url}", flush=True)
        workspace = ["-w", "workspace.yaml"] if Path("workspace.yaml").exists() else ["-m", "rutter_pipeline.definitions"]
        command = [sys.executable, "-m", "dagster", "dev", *workspace, "--port", str(port)]
        # A SIGTERM must still stop the UI and then the sandbox and embedded PostgreSQL this process holds.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        ui = subprocess.Popen(command)
        try:
            return ui.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            if ui.poll() is None:
                ui.terminate()
                ui.wait(timeout=60)


def _sync(settings: Settings) -> int:
    import dagster as dg
    import sqlalchemy as sa

    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.defs.headless import sync_everything
    from rutter_pipeline.defs.report import print_progress, print_report
    from rutter_pipeline.defs.runtime import SyncAlreadyRunning, one_sync_at_a_time, prepared
    from rutter_pipeline.rutter.client import RutterClient
    from rutter_pipeline.rutter.errors import RutterError

    # dagster-dbt narrates every dbt command at INFO; the run's event log keeps it, the terminal needs less.
    logging.getLogger("dagster.builtin").setLevel(logging.WARNING)
    with prepared(settings) as runtime:
        try:
            with one_sync_at_a_time(os.environ["RUTTER_DAGSTER_STORAGE_URL"]):
                _prepare_dbt()
                defs = build_definitions(runtime.settings)
                engine = _warehouse(runtime.settings)
                try:
                    with dg.DagsterInstance.get() as instance, RutterClient.from_env(os.environ) as client:
                        report = sync_everything(
                            defs=defs, instance=instance, client=client, engine=engine,
                            workers=min(runtime.settings.max_concurrent_runs, os.cpu_count() or 1),
                            refresh_marts=runtime.settings.refresh_marts, progress=print_progress,
                            source=runtime.settings.rutter_source)
                finally:
                    engine.dispose()
        except SyncAlreadyRunning as exc:
            print(f"rutter-pipeline: {exc}; wait for it to finish (one sync at a time per Dagster instance)",
                  file=sys.stderr)
            return EXIT_FAILED
        except RutterError as exc:
            print(f"rutter-pipeline: cannot reach Rutter: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except (sa.exc.DBAPIError, sa.exc.PendingRollbackError) as exc:
            print(f"rutter-pipeline: {lost_connection(exc)}", file=sys.stderr)
            return EXIT_FAILED
    return print_report(report)


def _repull(settings: Settings, *, connection_id: str, month: str) -> int:
    import dagster as dg

    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.defs.backfills import MissingMonth
    from rutter_pipeline.defs.headless import backfill_month
    from rutter_pipeline.defs.partitions import families_of, month_keys
    from rutter_pipeline.defs.report import print_progress
    from rutter_pipeline.defs.runtime import SyncAlreadyRunning, one_sync_at_a_time, prepared
    from rutter_pipeline.rutter.client import RutterClient

    with prepared(settings) as runtime:
        defs = build_definitions(runtime.settings)
        engine = _warehouse(runtime.settings)
        try:
            with one_sync_at_a_time(os.environ["RUTTER_DAGSTER_STORAGE_URL"]), \
                    dg.DagsterInstance.get() as instance, RutterClient.from_env(os.environ) as client:
                connection = next((c for c in client.list_connections() if c.id == connection_id), None)
                if connection is None:
                    print(f"rutter-pipeline: Rutter lists no connection {connection_id!r}", file=sys.stderr)
                    return EXIT_USAGE
                grid = next(a.partitions_def for a in defs.resolve_all_asset_specs()
                            if isinstance(a.partitions_def, dg.MultiPartitionsDefinition))
                if month not in month_keys(grid):
                    print(f"rutter-pipeline: {month} is not a month partition (RUTTER_HISTORY_START to now)",
                          file=sys.stderr)
                    return EXIT_USAGE
                runs = [backfill_month(defs, instance, MissingMonth(connection.id, family, month, runs=_run_count(
                    instance, connection.id, month))) for family in families_of(connection)]
        except SyncAlreadyRunning as exc:
            print(f"rutter-pipeline: {exc}; wait for it to finish", file=sys.stderr)
            return EXIT_FAILED
        finally:
            engine.dispose()
    for run in runs:
        print_progress(run)
    return 0 if all(run.success for run in runs) else EXIT_FAILED


def _run_count(instance, connection_id: str, month: str) -> int:  # noqa: ANN001 - dagster imported lazily
    import dagster as dg

    return len(instance.get_run_records(filters=dg.RunsFilter(
        tags={"dagster/partition/connection": connection_id, "dagster/partition/month": month})))


def _reload_quarantine(settings: Settings, *, connection_id: str | None) -> int:
    from rutter_pipeline.sync.reload import reload_quarantine

    engine = _warehouse(settings)
    try:
        summary = reload_quarantine(engine, connection_id=connection_id)
    finally:
        engine.dispose()
    print(f"{summary.tried} quarantined rows tried: {summary.loaded} loaded, {summary.quarantined_again} "
          "quarantined again (see rutter._quarantine.reason)")
    return EXIT_FAILED if summary.quarantined_again else 0


def _webhooks(settings: Settings, *, host: str, port: int) -> int:
    from rutter_pipeline.sandbox import DEFAULT_CLIENT_SECRET
    from rutter_pipeline.webhooks.receiver import WebhookReceiver

    # Without credentials the built-in sandbox is Rutter, and it signs with its own secret.
    secret = settings.client_secret or DEFAULT_CLIENT_SECRET
    engine = _warehouse(settings)
    receiver = WebhookReceiver(engine, secret)
    print(f"Receiving Rutter webhooks at {receiver.start(host=host, port=port)}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
        engine.dispose()
    return 0


def _warehouse(settings: Settings):  # noqa: ANN202 - sqlalchemy imported lazily to keep --help fast
    """Open the warehouse and bring its schema up to date; a refused connection is one line naming WAREHOUSE_URL."""
    import sqlalchemy as sa

    from rutter_pipeline.defs.runtime import UnreachableDatabase, unreachable_message
    from rutter_pipeline.warehouse import schema, warehouse_engine

    engine = warehouse_engine(settings.warehouse_url, data_dir=settings.data_dir)
    try:
        schema.upgrade(engine)
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        variable = "WAREHOUSE_URL" if settings.warehouse_url else "the embedded PostgreSQL (RUTTER_PIPELINE_DATA_DIR)"
        raise UnreachableDatabase(unreachable_message(variable, engine.url.render_as_string(hide_password=False),
                                                      exc)) from None
    return engine


def lost_connection(exc: BaseException) -> str:
    """One line for a database connection lost mid-sync: what happened, and that a rerun resumes."""
    cause = getattr(exc, "orig", None) or exc.__cause__ or exc
    first = next((line.strip() for line in str(cause).splitlines() if line.strip()), type(cause).__name__)
    return (f"lost the database connection during the sync ({type(cause).__name__}: {first}); every batch "
            "committed before is kept: run `rutter-pipeline sync` again once the database is back, it resumes")


def _prepare_dbt() -> None:
    # dbt's manifest must exist before the definitions load; a checkout without dbt models skips this.
    if importlib.util.find_spec("rutter_pipeline.defs.dbt") is None:
        return
    from rutter_pipeline.defs.dbt import prepare_dbt_manifest

    prepare_dbt_manifest()


if __name__ == "__main__":
    sys.exit(main())
