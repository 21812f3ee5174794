"""Run in a separate process: take grants from a shared PostgresRateLimiter and report when each came."""

from __future__ import annotations

import time

from rutter_pipeline.warehouse.rate_limit import PostgresRateLimiter


def take_grants(*, url: str, bucket: str, count: int, max_requests: int, per_seconds: float, out) -> None:
    """Acquire `count` grants and put their wall-clock times (after the grant) on the `out` queue."""
    limiter = PostgresRateLimiter(
        url, max_requests=max_requests, per_seconds=per_seconds, bucket=bucket, latency_allowance_s=0.0
    )
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(time.time())
    limiter.engine.dispose()
    out.put(times)
