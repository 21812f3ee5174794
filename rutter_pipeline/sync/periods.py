"""Calendar months as millisecond periods, for financial statements."""

from __future__ import annotations

from datetime import UTC, datetime

from rutter_pipeline.rutter.timeutil import to_ms
from rutter_pipeline.rutter.windows import Window


def month_start(year: int, month: int) -> datetime:
    """Midnight UTC on the first day of a month."""
    return datetime(year, month, 1, tzinfo=UTC)


def next_month(moment: datetime) -> datetime:
    """The first day of the month after `moment`'s month."""
    return month_start(moment.year + (moment.month // 12), moment.month % 12 + 1)


def month_period(moment: datetime) -> tuple[int, int]:
    """[start, end) in ms of the calendar month containing `moment`."""
    start = month_start(moment.year, moment.month)
    return to_ms(start), to_ms(next_month(start))


def recent_periods(now: datetime | None = None) -> list[tuple[int, int]]:
    """The previous and the current calendar month: the statements that can still change."""
    now = now or datetime.now(UTC)
    current = month_start(now.year, now.month)
    previous = month_start(now.year - (1 if now.month == 1 else 0), 12 if now.month == 1 else now.month - 1)
    return [month_period(previous), month_period(current)]


def window_for_month(month: datetime, *, is_first: bool, is_last: bool) -> Window:
    """The backfill window of a month partition.

    The first month also takes everything older (no start) and the last month everything up to now (no end),
    so a connection's months together cover all time exactly once.
    """
    start_ms, end_ms = month_period(month)
    return Window(None if is_first else start_ms, None if is_last else end_ms, period=(start_ms, end_ms))


def month_windows(first_month: datetime, *, now: datetime | None = None) -> list[Window]:
    """Windows for every month from `first_month` up to and including the current one."""
    now = now or datetime.now(UTC)
    months = []
    cursor = month_start(first_month.year, first_month.month)
    while cursor <= now:
        months.append(cursor)
        cursor = next_month(cursor)
    return [
        window_for_month(month, is_first=index == 0, is_last=index == len(months) - 1)
        for index, month in enumerate(months)
    ]
