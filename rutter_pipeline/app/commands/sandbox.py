"""`rutter-pipeline sandbox`: serve the offline Rutter sandbox over HTTP until Ctrl-C."""

from __future__ import annotations

import argparse

from rutter_pipeline.app.commands.common import EXIT_OK, non_negative, port


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add `sandbox` and its arguments to the command line."""
    parser = commands.add_parser("sandbox", help="serve the offline Rutter sandbox over HTTP")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port, required=True, help="TCP port (1-65535)")
    parser.add_argument("--seed", type=non_negative, default=7, help="seed of the generated data (default 7)")
    parser.add_argument(
        "--big-orders", type=non_negative, default=0, help="add a Shopify connection with this many orders"
    )
    parser.add_argument(
        "--connections",
        type=non_negative,
        default=0,
        help="serve this many small connections instead of the default five (measuring at scale)",
    )
    parser.add_argument(
        "--no-connection-details",
        action="store_true",
        help="answer GET /connections/access_token with 404, as Rutter does for some platforms",
    )


def run(args: argparse.Namespace) -> int:
    """Serve the sandbox; it needs no settings (it is what other processes are configured to reach)."""
    from rutter_pipeline.sandbox import serve_forever

    # serve_forever prints the base URL and the connections' access tokens, and returns on Ctrl-C.
    serve_forever(
        host=args.host,
        port=args.port,
        seed=args.seed,
        big_orders=args.big_orders,
        connections=args.connections,
        connection_details=not args.no_connection_details,
    )
    return EXIT_OK
