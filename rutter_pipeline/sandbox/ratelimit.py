"""The organisation-wide rate limit: at most N requests in any sliding window of W seconds."""

from __future__ import annotations

import collections
import threading
import time


class SlidingWindowLimit:
    """Counts accepted requests in the last `per_seconds`; `None` limits disable it (benchmarks).

    `refused` counts the requests answered 429 because they were over the limit: a client that keeps to the
    organisation's budget leaves it at 0.
    """

    def __init__(self, max_requests: int | None, per_seconds: float) -> None:
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._accepted: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self.refused = 0

    def admit(self) -> bool:
        """Record a request and say whether it is within the limit (refused requests do not count)."""
        if self.max_requests is None:
            return True
        now = time.monotonic()
        with self._lock:
            while self._accepted and self._accepted[0] <= now - self.per_seconds:
                self._accepted.popleft()
            if len(self._accepted) >= self.max_requests:
                self.refused += 1
                return False
            self._accepted.append(now)
            return True
