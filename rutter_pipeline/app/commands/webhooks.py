"""`rutter-pipeline webhooks`: receive Rutter webhooks and apply commerce deletions, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from rutter_pipeline.app.commands.common import EXIT_OK, EXIT_USAGE, open_warehouse, port
from rutter_pipeline.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add `webhooks` and its arguments to the command line."""
    parser = commands.add_parser("webhooks", help="receive Rutter webhooks and apply commerce deletions")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port, required=True, help="TCP port (1-65535)")
    parser.add_argument(
        "--sandbox", action="store_true", help="accept webhooks signed by the built-in sandbox (its secret is public)"
    )
    parser.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the receiver on `--host`/`--port`, verifying signatures with the client secret."""
    from rutter_pipeline.sandbox import DEFAULT_CLIENT_SECRET

    # The sandbox's secret is published: accepting it by default would let anyone sign an ORDER_DELETED.
    if args.sandbox:
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
    with receiving(settings, args.host, args.port, secret) as url:
        print(f"Receiving Rutter webhooks at {url}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        with suppress(KeyboardInterrupt):
            signal.pause()
    return EXIT_OK


@contextmanager
def receiving(settings: Settings, host: str, port: int, secret: str) -> Iterator[str]:
    """The webhook receiver, serving until the block ends; yields its URL."""
    from rutter_pipeline.webhooks.receiver import WebhookReceiver

    engine = open_warehouse(settings)
    receiver = WebhookReceiver(engine, secret)
    try:
        yield receiver.start(host=host, port=port)
    finally:
        receiver.stop()
        engine.dispose()
