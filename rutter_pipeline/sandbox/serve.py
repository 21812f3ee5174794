"""Run a sandbox in the foreground (the entry point of `rutter-pipeline sandbox --port N`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from rutter_pipeline.sandbox.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox


def serve_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 7,
    profile: str = "default",
    big_orders: int = 0,
    connections: int = 0,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    data_dir: str | Path | None = None,
    webhook_url: str | None = None,
    rate_limit: tuple[int, float] | None = (500, 10.0),
    stop: threading.Event | None = None,
    connection_details: bool = True,
) -> None:
    """Start a sandbox and block until `stop` is set (or the process is interrupted).

    Prints the base URL, how long building the data took, and the connections (platform, status, access
    token) so a user can call it; with `connections` (the `many` profile), only how many there are.
    """
    if connections:
        profile = "many"
    started = time.perf_counter()
    sandbox = Sandbox(
        seed=seed,
        client_id=client_id,
        client_secret=client_secret,
        profile=profile,
        big_orders=big_orders,
        connections=connections,
        data_dir=data_dir,
        webhook_url=webhook_url,
        rate_limit=rate_limit,
        connection_details=connection_details,
    )
    base_url = sandbox.start(host=host, port=port)
    built_s = time.perf_counter() - started
    print(f"Rutter sandbox serving {base_url} (admin API under /_sandbox; data built in {built_s:.2f}s)", flush=True)
    listed = sandbox.connections()
    if connections:
        print(f"  {len(listed)} connections (the 'many' profile); GET /connections lists them", flush=True)
        listed = []
    for conn in listed:
        print(f"  {conn['platform']:<11} {conn['status']:<13} {conn['name']}: access_token={conn['access_token']}")
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
