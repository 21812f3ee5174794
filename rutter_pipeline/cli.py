"""`rutter-pipeline`: run the sandbox, the Dagster UI, a headless sync, or the webhook receiver.

    rutter-pipeline sandbox --port 8765 [--seed 7] [--big-orders N]
    rutter-pipeline dev [--port 3000] [--webhooks-port 8787 [--webhooks-host 127.0.0.1]]
    rutter-pipeline sync
    rutter-pipeline webhooks --port 8787 [--host 127.0.0.1] [--sandbox]

Without RUTTER_CLIENT_ID/RUTTER_CLIENT_SECRET, `dev` and `sync` start the built-in sandbox and use it; real
Rutter is one environment variable away. Exit status: 0 success, 1 a run or check failed, 2 bad arguments or
environment variables.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from rutter_pipeline.settings import Settings, SettingsError

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rutter-pipeline` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "sandbox":
        return _sandbox(args)
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"rutter-pipeline: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "webhooks":
        return _webhooks(settings, host=args.host, port=args.port, sandbox=args.sandbox)
    if args.command == "dev":
        return _dev(settings, port=args.port, webhooks=(args.webhooks_host, args.webhooks_port))
    return _sync(settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rutter-pipeline", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="serve the offline Rutter sandbox over HTTP")
    sandbox.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=_port, required=True, help="TCP port (1-65535)")
    sandbox.add_argument("--seed", type=_non_negative, default=7, help="seed of the generated data (default 7)")
    sandbox.add_argument("--big-orders", type=_non_negative, default=0,
                         help="add a Shopify connection with this many orders")
    dev = commands.add_parser("dev", help="start the Dagster UI and daemon")
    dev.add_argument("--port", type=_port, default=3000, help="UI port (default 3000)")
    dev.add_argument("--webhooks-port", type=_port, help="also receive Rutter webhooks on this port; they start runs")
    dev.add_argument("--webhooks-host", default="127.0.0.1", help="interface the receiver listens on (default 127.0.0.1)")
    webhooks = commands.add_parser("webhooks", help="receive Rutter webhooks and apply commerce deletions")
    webhooks.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    webhooks.add_argument("--port", type=_port, required=True, help="TCP port (1-65535)")
    webhooks.add_argument("--sandbox", action="store_true",
                          help="accept webhooks signed by the built-in sandbox (its secret is public)")
    commands.add_parser("sync", help="backfill missing months and pull changes of every ready connection, then exit")
    return parser


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
    serve_forever(host=args.host, port=args.port, seed=args.seed, big_orders=args.big_orders)
    return 0


def _dev(settings: Settings, *, port: int, webhooks: tuple[str, int | None] = ("127.0.0.1", None)) -> int:
    from rutter_pipeline.defs.runtime import SANDBOX_CLIENT_SECRET, prepared

    webhooks_host, webhooks_port = webhooks
    # The built-in sandbox posts its webhooks to the receiver; its secret is accepted only when it is in use.
    sandbox_webhooks = f"http://127.0.0.1:{webhooks_port}/" if webhooks_port else None
    with prepared(settings, webhook_url=sandbox_webhooks) as runtime, ExitStack() as receiver:
        _prepare_dbt()
        if runtime.sandbox_url:
            print(f"No Rutter credentials set: using the built-in sandbox at {runtime.sandbox_url}", flush=True)
        if webhooks_port:
            secret = SANDBOX_CLIENT_SECRET if runtime.sandbox_url else runtime.settings.client_secret
            url = receiver.enter_context(_receiving(runtime.settings, webhooks_host, webhooks_port, secret))
            print(f"Receiving Rutter webhooks at {url}", flush=True)
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

    from rutter_pipeline.defs import build_definitions
    from rutter_pipeline.defs.headless import sync_everything
    from rutter_pipeline.defs.report import print_progress, print_report
    from rutter_pipeline.defs.runtime import prepared
    from rutter_pipeline.rutter.client import RutterClient
    from rutter_pipeline.rutter.errors import RutterError

    # dagster-dbt narrates every dbt command at INFO; the run's event log keeps it, the terminal needs less.
    logging.getLogger("dagster.builtin").setLevel(logging.WARNING)
    with prepared(settings) as runtime:
        _prepare_dbt()
        defs = build_definitions(runtime.settings)
        engine = _warehouse(runtime.settings)
        try:
            with dg.DagsterInstance.get() as instance, RutterClient.from_env(os.environ) as client:
                report = sync_everything(defs=defs, instance=instance, client=client, engine=engine,
                                         workers=min(runtime.settings.max_concurrent_runs, os.cpu_count() or 1),
                                         refresh_marts=runtime.settings.refresh_marts, progress=print_progress)
        except RutterError as exc:
            print(f"rutter-pipeline: cannot reach Rutter: {exc}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            engine.dispose()
    return print_report(report)


def _webhooks(settings: Settings, *, host: str, port: int, sandbox: bool) -> int:
    from rutter_pipeline.sandbox import DEFAULT_CLIENT_SECRET

    # The sandbox's secret is published: accepting it by default would let anyone sign an ORDER_DELETED.
    if sandbox:
        secret = DEFAULT_CLIENT_SECRET
    elif settings.client_secret:
        secret = settings.client_secret
    else:
        print("rutter-pipeline: configuration error: RUTTER_CLIENT_SECRET is not set; the webhook receiver needs "
              "it to verify signatures (or pass --sandbox to accept the built-in sandbox's webhooks)",
              file=sys.stderr)
        return EXIT_USAGE
    with _receiving(settings, host, port, secret) as url:
        print(f"Receiving Rutter webhooks at {url}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
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
    from rutter_pipeline.warehouse import schema, warehouse_engine

    engine = warehouse_engine(settings.warehouse_url, data_dir=settings.data_dir)
    schema.upgrade(engine)
    return engine


def _prepare_dbt() -> None:
    # dbt's manifest must exist before the definitions load; a checkout without dbt models skips this.
    if importlib.util.find_spec("rutter_pipeline.defs.dbt") is None:
        return
    from rutter_pipeline.defs.dbt import prepare_dbt_manifest

    prepare_dbt_manifest()


if __name__ == "__main__":
    sys.exit(main())
