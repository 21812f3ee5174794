"""Rate limiters: the sliding-window arithmetic, threads sharing one, processes sharing PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
import sqlalchemy as sa

from rutter_pipeline.rutter.errors import ClientConfigError
from rutter_pipeline.rutter.ratelimit import SlidingWindowRateLimiter
from rutter_pipeline.warehouse.rate_limit import PostgresRateLimiter
from rutter_pipeline_tests.rutter.ratelimit_worker import take_grants


class FakeClock:
    """A clock that only moves when the limiter sleeps, so the arithmetic is checked exactly."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _max_in_any_window(times: list[float], width: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _most_provably_in_a_window(spans: list[tuple[float, float]], width: float) -> int:
    """The most grants that certainly fell in one window of `width`, each known only to lie in (asked, granted).

    Grants i..j certainly lie within `max(granted) - min(asked)` of each other, so no scheduling delay between a
    grant and its timestamp can make a limiter that keeps its budget look as if it broke it.
    """
    best = 0
    for start, _ in spans:
        ends = sorted(granted for asked, granted in spans if asked >= start)
        best = max(best, sum(1 for end in ends if end - start < width))
    return best


def test_sliding_window_arithmetic():
    clock = FakeClock()
    limiter = SlidingWindowRateLimiter(3, 10.0, latency_allowance_s=0.5, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire() == pytest.approx(10.5), "the 4th waits until the 1st grant has aged out"
    clock.now += 2.0
    limiter.backoff(5.0)
    assert limiter.acquire() == pytest.approx(5.0)


def test_sliding_window_rejects_a_nonsense_budget():
    with pytest.raises(ClientConfigError):
        SlidingWindowRateLimiter(0, 10.0)


def test_threads_sharing_one_limiter_stay_within_budget():
    limiter = SlidingWindowRateLimiter(20, 0.5, latency_allowance_s=0.0)
    grants: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(15):
            limiter.acquire()
            with lock:
                grants.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(grants) == 60
    # A grant is recorded just after it is made, so allow a hair of scheduling slack on the window width.
    assert _max_in_any_window(grants, 0.5 - 0.02) <= 20
    assert max(grants) - min(grants) >= 2 * 0.5 * 0.95, "60 grants at 20 per 0.5 s need two full waits"


def test_postgres_limiter_creates_its_tables_and_enforces_the_window(postgres_url):
    limiter = PostgresRateLimiter(postgres_url, max_requests=3, per_seconds=0.4, latency_allowance_s=0.0, bucket="t")
    started = time.monotonic()
    waits = [limiter.acquire() for _ in range(4)]
    assert waits[:3] == pytest.approx([0, 0, 0], abs=0.05)
    assert waits[3] >= 0.3 and time.monotonic() - started >= 0.35
    limiter.backoff(0.5)
    assert limiter.acquire() >= 0.4
    again = PostgresRateLimiter(limiter.engine, max_requests=3, per_seconds=0.4, bucket="t")
    assert again.acquire() >= 0.0, "a second limiter on the same tables and bucket works"
    limiter.engine.dispose()


#: The tables as earlier versions created them, by hand, in Dagster's storage database of existing instances.
_EARLIER_TABLES = (
    "CREATE SCHEMA rutter",
    "CREATE TABLE rutter.rate_limit_buckets"
    " (bucket text PRIMARY KEY, paused_until double precision NOT NULL DEFAULT 0)",
    "CREATE TABLE rutter.rate_limit_grants (bucket text NOT NULL, granted_at double precision NOT NULL)",
    "CREATE INDEX rate_limit_grants_bucket_time ON rutter.rate_limit_grants (bucket, granted_at)",
    "INSERT INTO rutter.rate_limit_buckets (bucket) VALUES ('t')",
)


def test_postgres_limiter_keeps_the_tables_of_an_existing_instance(postgres_url):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        for statement in _EARLIER_TABLES:
            conn.execute(sa.text(statement))
        conn.execute(sa.text("INSERT INTO rutter.rate_limit_grants VALUES ('t', extract(epoch FROM now()))"))
    limiter = PostgresRateLimiter(engine, max_requests=2, per_seconds=0.4, latency_allowance_s=0.0, bucket="t")
    assert limiter.acquire() == pytest.approx(0, abs=0.05)
    assert limiter.acquire() >= 0.2, "the grant recorded before the upgrade still counts"
    engine.dispose()


def test_postgres_limiter_needs_postgres(mysql_url):
    with pytest.raises(ClientConfigError, match="PostgreSQL"):
        PostgresRateLimiter(mysql_url)


def test_processes_sharing_the_postgres_limiter_never_exceed_the_budget(postgres_url):
    max_requests, per_seconds, per_process, processes = 15, 0.5, 20, 3
    PostgresRateLimiter(postgres_url, bucket="shared").engine.dispose()  # tables exist before the race
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(
            target=take_grants,
            kwargs={
                "url": postgres_url,
                "bucket": "shared",
                "count": per_process,
                "max_requests": max_requests,
                "per_seconds": per_seconds,
                "out": out,
            },
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    spans = [span for spans_of_one in results for span in spans_of_one]
    assert len(spans) == processes * per_process
    assert _most_provably_in_a_window(spans, per_seconds) <= max_requests
    grants = [granted for _, granted in spans]
    assert max(grants) - min(grants) >= (len(grants) // max_requests - 1) * per_seconds * 0.9
