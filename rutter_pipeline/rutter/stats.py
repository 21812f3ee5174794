"""Thread-safe counters of what a client did, for run metadata and benchmarks."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class ClientStats:
    """Counters shared by every thread using one client.

    Attributes:
        requests: HTTP requests sent (retries included).
        retries: requests repeated after a retryable failure.
        pages: pages yielded to callers.
        waited_s: seconds spent waiting for the rate limiter and between retries.
        dropped_outside_window: objects a server returned outside the requested window, not yielded.
    """

    requests: int = 0
    retries: int = 0
    pages: int = 0
    waited_s: float = 0.0
    dropped_outside_window: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self,
        *,
        requests: int = 0,
        retries: int = 0,
        pages: int = 0,
        waited_s: float = 0.0,
        dropped_outside_window: int = 0,
    ) -> None:
        """Add to the counters atomically."""
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.pages += pages
            self.waited_s += waited_s
            self.dropped_outside_window += dropped_outside_window
