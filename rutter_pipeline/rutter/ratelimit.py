"""Client-side rate limiting against Rutter's budget of 500 requests per 10 seconds per organisation.

Every worker of one organisation shares that budget, so limiters are meant to be shared: one
`SlidingWindowRateLimiter` for all threads of a process, one `PostgresRateLimiter` (same database, same
bucket) for all processes and machines.

Both count a request from the moment it is granted, but the server counts it when it arrives, a little
later; each grant is therefore held for `per_seconds + latency_allowance_s` so that no server-side window
ever sees more than the budget.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Protocol

import sqlalchemy as sa

from rutter_pipeline.rutter.errors import ClientConfigError

DEFAULT_LATENCY_ALLOWANCE_S = 0.25


class RateLimiter(Protocol):
    """Grants permission to send one request."""

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""

    def backoff(self, seconds: float) -> None:
        """Make everyone sharing this limiter wait `seconds` from now (e.g. after a 429)."""


def _check_budget(max_requests: int, per_seconds: float, allowance_s: float) -> None:
    if max_requests < 1 or per_seconds <= 0 or allowance_s < 0:
        raise ClientConfigError(
            f"rate limit must be at least 1 request per positive period, got {max_requests}/{per_seconds}s"
        )


class SlidingWindowRateLimiter:
    """At most `max_requests` grants in any sliding `per_seconds` window, shared by the threads of a process.

    Args:
        max_requests: the budget per window.
        per_seconds: the window length.
        latency_allowance_s: extra seconds each grant is held (see the module docstring).
        clock: monotonic clock; `sleep`: how to wait (both replaceable for tests of the arithmetic).
    """

    def __init__(
        self,
        max_requests: int = 500,
        per_seconds: float = 10.0,
        *,
        latency_allowance_s: float = DEFAULT_LATENCY_ALLOWANCE_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check_budget(max_requests, per_seconds, latency_allowance_s)
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._hold_s = per_seconds + latency_allowance_s
        self._clock = clock
        self._sleep = sleep
        self._grants: collections.deque[float] = collections.deque()
        self._paused_until = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        started = self._clock()
        while True:
            wait = self._try_grant()
            if wait <= 0:
                return self._clock() - started
            self._sleep(wait)

    def _try_grant(self) -> float:
        """Grant now and return 0, or return how long to wait before trying again."""
        with self._lock:
            now = self._clock()
            while self._grants and self._grants[0] <= now - self._hold_s:
                self._grants.popleft()
            if self._paused_until > now:
                return self._paused_until - now
            if len(self._grants) < self.max_requests:
                self._grants.append(now)
                return 0.0
            return self._grants[0] + self._hold_s - now

    def backoff(self, seconds: float) -> None:
        """Make everyone sharing this limiter wait `seconds` from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))

    def __repr__(self) -> str:
        return f"SlidingWindowRateLimiter({self.max_requests}/{self.per_seconds}s)"


_SCHEMA = "rutter"
_SETUP_LOCK_KEY = 0x52757474  # any constant: serialises table creation between processes


class PostgresRateLimiter:
    """The same sliding window, kept in PostgreSQL so that processes on any machine share one budget.

    Grants live in `rutter.rate_limit_grants(bucket, granted_at)`; each bucket has a row in
    `rutter.rate_limit_buckets` that is locked (`SELECT ... FOR UPDATE`) while a grant is decided, which
    serialises the decision across processes. Times come from the database clock, so machines with skewed
    clocks still agree. Tables are created when missing.

    Args:
        engine: an SQLAlchemy engine or URL of a PostgreSQL database.
        max_requests: the budget per window.
        per_seconds: the window length.
        bucket: budget name; use one per Rutter organisation.
        latency_allowance_s: extra seconds each grant is held.
    """

    def __init__(
        self,
        engine: sa.Engine | str,
        *,
        max_requests: int = 500,
        per_seconds: float = 10.0,
        bucket: str = "rutter",
        latency_allowance_s: float = DEFAULT_LATENCY_ALLOWANCE_S,
    ) -> None:
        _check_budget(max_requests, per_seconds, latency_allowance_s)
        self.engine = sa.create_engine(engine) if isinstance(engine, str) else engine
        if self.engine.dialect.name != "postgresql":
            raise ClientConfigError(f"PostgresRateLimiter needs PostgreSQL, got {self.engine.dialect.name}")
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self.bucket = bucket
        self._hold_s = per_seconds + latency_allowance_s
        self._ensure_tables()

    def _ensure_tables(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK_KEY})
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA}"))
            conn.execute(
                sa.text(
                    f"CREATE TABLE IF NOT EXISTS {_SCHEMA}.rate_limit_buckets ("
                    " bucket text PRIMARY KEY, paused_until double precision NOT NULL DEFAULT 0)"
                )
            )
            conn.execute(
                sa.text(
                    f"CREATE TABLE IF NOT EXISTS {_SCHEMA}.rate_limit_grants ("
                    " bucket text NOT NULL, granted_at double precision NOT NULL)"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE INDEX IF NOT EXISTS rate_limit_grants_bucket_time"
                    f" ON {_SCHEMA}.rate_limit_grants (bucket, granted_at)"
                )
            )
            conn.execute(
                sa.text(f"INSERT INTO {_SCHEMA}.rate_limit_buckets (bucket) VALUES (:b) ON CONFLICT DO NOTHING"),
                {"b": self.bucket},
            )

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        started = time.monotonic()
        while True:
            wait = self._try_grant()
            if wait <= 0:
                return time.monotonic() - started
            time.sleep(wait)

    def _try_grant(self) -> float:
        params = {"b": self.bucket}
        with self.engine.begin() as conn:
            paused_until = conn.execute(
                sa.text(f"SELECT paused_until FROM {_SCHEMA}.rate_limit_buckets WHERE bucket = :b FOR UPDATE"),
                params,
            ).scalar_one()
            # Read the clock only once the bucket is ours, so grants are stamped in the order they were made.
            now = conn.execute(sa.text("SELECT extract(epoch FROM clock_timestamp())::float8")).scalar_one()
            conn.execute(
                sa.text(f"DELETE FROM {_SCHEMA}.rate_limit_grants WHERE bucket = :b AND granted_at <= :cutoff"),
                {**params, "cutoff": now - self._hold_s},
            )
            if paused_until > now:
                return paused_until - now
            count, oldest = conn.execute(
                sa.text(f"SELECT count(*), min(granted_at) FROM {_SCHEMA}.rate_limit_grants WHERE bucket = :b"),
                params,
            ).one()
            if count < self.max_requests:
                conn.execute(
                    sa.text(f"INSERT INTO {_SCHEMA}.rate_limit_grants (bucket, granted_at) VALUES (:b, :now)"),
                    {**params, "now": now},
                )
                return 0.0
            return oldest + self._hold_s - now

    def backoff(self, seconds: float) -> None:
        """Make every process sharing this bucket wait `seconds` from now."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"UPDATE {_SCHEMA}.rate_limit_buckets SET paused_until = GREATEST(paused_until,"
                    " extract(epoch FROM clock_timestamp()) + :s) WHERE bucket = :b"
                ),
                {"b": self.bucket, "s": max(seconds, 0.0)},
            )

    def __repr__(self) -> str:
        return f"PostgresRateLimiter({self.bucket!r}, {self.max_requests}/{self.per_seconds}s)"
