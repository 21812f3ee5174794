"""Fast ISO 8601 formatting of Unix milliseconds (rendering a million orders formats millions of timestamps)."""

from __future__ import annotations

import functools
from datetime import date, timedelta

_EPOCH_DAY = date(1970, 1, 1)
# Looking up pre-formatted pieces is several times cheaper than formatting four integers on every call.
_HOUR_MINUTE = tuple(f"{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))
_SECOND = tuple(f"{second:02d}." for second in range(60))
_MILLISECOND = tuple(f"{millis:03d}Z" for millis in range(1000))


@functools.lru_cache(maxsize=8192)
def _day(days: int) -> str:
    return f"{(_EPOCH_DAY + timedelta(days=days)).isoformat()}T"


def iso_ms(ms: int) -> str:
    """`2023-01-02T02:34:56.000Z` for Unix milliseconds; same result as `timeutil.ms_to_iso`, much faster."""
    days, rest = divmod(ms, 86_400_000)
    minute, rest = divmod(rest, 60_000)
    second, millis = divmod(rest, 1000)
    return f"{_day(days)}{_HOUR_MINUTE[minute]}{_SECOND[second]}{_MILLISECOND[millis]}"
