"""Client-side rate limiting against Rutter's budget of 500 requests per 10 seconds per organisation.

Every worker of one organisation shares that budget, so limiters are meant to be shared: one
`SlidingWindowRateLimiter` for all threads of a process; for all processes and machines, one
`rutter_pipeline.warehouse.rate_limit.PostgresRateLimiter` (same database, same bucket), which keeps its
grants in database tables and so lives with the other database code.

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

from rutter_pipeline.rutter.errors import ClientConfigError

DEFAULT_LATENCY_ALLOWANCE_S = 0.25


class RateLimiter(Protocol):
    """Grants permission to send one request."""

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""

    def backoff(self, seconds: float) -> None:
        """Make everyone sharing this limiter wait `seconds` from now (e.g. after a 429)."""


def check_budget(max_requests: int, per_seconds: float, allowance_s: float) -> None:
    """Refuse a budget no limiter can keep (`ClientConfigError`)."""
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
        check_budget(max_requests, per_seconds, latency_allowance_s)
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
