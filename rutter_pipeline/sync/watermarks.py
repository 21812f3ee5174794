"""Where each incremental stream resumes, and why that point misses nothing.

Accounting objects carry `last_synced_at`, Rutter's own stamp: pulling `last_synced_at >= watermark` in ascending
order and advancing the watermark to the last committed object's stamp is gap-free by construction.

Commerce objects only carry the platform's `updated_at`, and Rutter serves them from a copy refreshed on a
schedule: an update made at 10:00 may first be served at 10:55, still stamped 10:00. A pull made at time P has
therefore only seen the updates that Rutter's last *completed* refresh had picked up, i.e. those stamped before
that refresh started. The next pull must start from there, not from P.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rutter_pipeline.rutter.timeutil import to_ms


def incremental_stream(table: str) -> str:
    """Sync-state stream name of an endpoint's incremental pull."""
    return f"incremental:{table}"


def backfill_stream(table: str, window_label: str) -> str:
    """Sync-state stream name recording that a backfill window was loaded completely."""
    return f"backfill:{table}:{window_label}"


DELETES_STREAM = "deletes"


@dataclass(frozen=True)
class FreshnessPolicy:
    """How far back a commerce pull reaches to cover Rutter's refresh lag.

    Attributes:
        fallback_lookback_ms: used when Rutter's connection metadata does not say when its last completed
            refresh started (default 24 h: Rutter refreshes hourly by default, and re-reading a day of changes
            is cheap next to missing one).
        clock_skew_ms: margin for clocks that disagree between the platform, Rutter and this machine.
    """

    fallback_lookback_ms: int = 24 * 3600 * 1000
    clock_skew_ms: int = 5 * 60 * 1000


def safe_commerce_watermark(
    *,
    pull_started: datetime,
    last_sync_started_at: datetime | None,
    last_sync_completed_at: datetime | None,
    policy: FreshnessPolicy,
) -> int:
    """The `updated_at` (ms) from which the next commerce pull must start so that late updates are not missed.

    Args:
        pull_started: when this pull asked for its first page.
        last_sync_started_at: Rutter's `last_sync_started_at` for the connection, read before the pull.
        last_sync_completed_at: Rutter's `last_sync_completed_at`, read before the pull.
        policy: lookback and clock-skew margins.
    """
    pulled_ms = to_ms(pull_started)
    started = to_ms(last_sync_started_at) if last_sync_started_at else None
    completed = to_ms(last_sync_completed_at) if last_sync_completed_at else None
    if started is not None and completed is not None and started <= completed:
        # The latest refresh is complete: everything stamped before it started is being served.
        candidate = started
    elif completed is not None:
        # A refresh is running; the one before it started some time before it completed.
        candidate = completed - policy.fallback_lookback_ms
    else:
        candidate = pulled_ms - policy.fallback_lookback_ms
    return min(candidate, pulled_ms) - policy.clock_skew_ms
