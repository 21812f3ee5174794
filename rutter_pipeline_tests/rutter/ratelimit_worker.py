"""Run in a separate process: take grants from a shared PostgresRateLimiter and report when each came."""

from __future__ import annotations

import time

from rutter_pipeline.warehouse.rate_limit import PostgresRateLimiter


def take_grants(*, url: str, bucket: str, count: int, max_requests: int, per_seconds: float, out) -> None:
    """Acquire `count` grants and put on the `out` queue, for each, the wall-clock times before asking and after
    the grant: the grant was made somewhere in between, however long the process was paused."""
    limiter = PostgresRateLimiter(
        url, max_requests=max_requests, per_seconds=per_seconds, bucket=bucket, latency_allowance_s=0.0
    )
    times = []
    for _ in range(count):
        asked = time.time()
        limiter.acquire()
        times.append((asked, time.time()))
    limiter.engine.dispose()
    out.put(times)
