"""When and how long to wait before asking Rutter again.

Exponential backoff with full jitter (the delay is uniform in [0, base·2^(attempt-1)], capped), so that
many workers hitting the same limit do not retry in lockstep. A server hint (`Retry-After`, or a
`X-RateLimit-Reset`-style header) wins when present; Rutter does not document either, so neither is needed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from rutter_pipeline.rutter.errors import ClientConfigError

#: Headers that announce when a rate-limit window resets, in the order they are trusted.
RESET_HEADERS = ("X-RateLimit-Reset", "RateLimit-Reset", "X-Rate-Limit-Reset")

# A reset value above these is an absolute epoch time rather than a number of seconds to wait.
_EPOCH_MS_FLOOR = 1e12
_EPOCH_S_FLOOR = 1e9


@dataclass(frozen=True)
class RetryPolicy:
    """How persistent the client is with retryable failures (429, 452, 5xx, transport errors).

    Attributes:
        max_attempts: attempts per request, the first one included.
        base_delay_s: the backoff cap of the first retry; it doubles each attempt.
        max_delay_s: the largest backoff cap (server hints may ask for longer).
        max_total_wait_s: the most one request may spend sleeping between attempts; a wait that would
            exceed it ends the retries with the last error.
        rate_limited_min_delay_s: the least wait after a 429 without a server hint: Rutter's budget refills
            over a 10-second window, so retrying within milliseconds only spends requests.
    """

    max_attempts: int = 8
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_total_wait_s: float = 300.0
    rate_limited_min_delay_s: float = 1.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ClientConfigError("RetryPolicy.max_attempts must be at least 1")
        if min(self.base_delay_s, self.max_delay_s, self.max_total_wait_s, self.rate_limited_min_delay_s) < 0:
            raise ClientConfigError("RetryPolicy delays must not be negative")

    def backoff_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full-jitter backoff after failed attempt number `attempt` (1-based)."""
        cap = min(self.max_delay_s, self.base_delay_s * 2 ** max(attempt - 1, 0))
        return (rng or random).uniform(0.0, cap)

    def delay_s(
        self,
        attempt: int,
        *,
        headers: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
        now: Callable[[], float] = time.time,
        rate_limited: bool = False,
    ) -> float:
        """Seconds to wait before the next attempt: the server's hint if any, else the jittered backoff
        (at least `rate_limited_min_delay_s` after a 429)."""
        hint = server_hint_s(headers or {}, now=now)
        if hint is not None:
            return hint
        backoff = self.backoff_s(attempt, rng)
        return max(backoff, self.rate_limited_min_delay_s) if rate_limited else backoff


def server_hint_s(headers: Mapping[str, str], *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asked us to wait, from `Retry-After` or a rate-limit reset header.

    Args:
        headers: response headers (case-insensitive mapping, as `requests` gives).
        now: the wall clock, for absolute times (HTTP dates, epoch resets).

    Returns:
        A non-negative number of seconds, or None when no header gives a usable value.
    """
    retry_after = _header(headers, "Retry-After")
    if retry_after is not None:
        parsed = _seconds_or_http_date(retry_after, now=now)
        if parsed is not None:
            return parsed
    for name in RESET_HEADERS:
        value = _header(headers, name)
        if value is not None:
            parsed = _reset_seconds(value, now=now)
            if parsed is not None:
                return parsed
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _seconds_or_http_date(value: str, *, now: Callable[[], float]) -> float | None:
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - now(), 0.0)


def _reset_seconds(value: str, *, now: Callable[[], float]) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    if number > _EPOCH_MS_FLOOR:
        return max(number / 1000.0 - now(), 0.0)
    if number > _EPOCH_S_FLOOR:
        return max(number - now(), 0.0)
    return max(number, 0.0)
