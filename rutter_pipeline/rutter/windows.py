"""How a backfill window or an increment is asked of the API, and how answers are held to the window.

See docs/architecture.md ("Windows") for why each `WindowBy` maps as it does. The server is trusted to
filter, but not blindly: an object whose window timestamp lies outside the window is dropped (and
counted), so adjacent windows never both deliver it.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

from rutter_pipeline.rutter.catalog import Endpoint, Incremental, WindowBy
from rutter_pipeline.rutter.paging import Page
from rutter_pipeline.rutter.timeutil import Window, from_ms, iso_to_ms

ASCENDING_SYNC = "last_synced_at ASC"


def window_params(endpoint: Endpoint, window: Window) -> dict[str, Any]:
    """Query parameters restricting a list endpoint to `window` (CREATED_AT and LAST_SYNCED_AT only)."""
    if endpoint.window_by is WindowBy.CREATED_AT:
        return {"created_at_min": window.start_ms, "created_at_max": window.inclusive_max_ms}
    if endpoint.window_by is WindowBy.LAST_SYNCED_AT:
        # A 0 lower bound means "from the beginning" too; leaving it out keeps the request plain.
        return {"last_synced_at_min": window.start_ms or None, "sort": ASCENDING_SYNC}
    raise ValueError(f"{endpoint.path} is windowed by {endpoint.window_by.value}, not by query parameters")


def changed_params(endpoint: Endpoint, since_ms: int | None) -> dict[str, Any]:
    """Query parameters asking for objects changed since `since_ms` (inclusive)."""
    if endpoint.incremental is Incremental.LAST_SYNCED_AT:
        return {"last_synced_at_min": since_ms or None, "sort": ASCENDING_SYNC}
    if endpoint.incremental is Incremental.UPDATED_AT:
        return {"updated_at_min": since_ms}
    return {}


def _timestamp_ms(obj: dict[str, Any], field: str) -> int | None:
    """The object's timestamp in ms, or None when absent/null/unparseable (the loader judges those)."""
    value = obj.get(field) if isinstance(obj, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return iso_to_ms(value)
    except ValueError:
        return None


def hold_to_window(
    pages: Iterator[Page],
    *,
    field: str,
    window: Window,
    stop_at_end: bool,
    on_drop: Callable[[int], None],
) -> Iterator[Page]:
    """Drop objects whose `field` lies outside `window`; with `stop_at_end`, end at the first one past it.

    Args:
        pages: pages as served.
        field: the window timestamp field.
        window: the window the request asked for.
        stop_at_end: the pages are sorted ascending by `field` (LAST_SYNCED_AT windows): the first object
            at or after the window's end ends the pull; it and everything after it belong to later windows.
        on_drop: called with the number of objects dropped from a page for lying outside the window.

    Yields:
        Pages with only the window's objects (objects without a usable timestamp are kept).
    """
    for page in pages:
        kept: list[dict[str, Any]] = []
        dropped = 0
        for obj in page.objects:
            ms = _timestamp_ms(obj, field)
            if ms is None or window.contains(ms):
                kept.append(obj)
            elif stop_at_end and window.end_ms is not None and ms >= window.end_ms:
                if dropped:
                    on_drop(dropped)
                yield replace(page, objects=kept, next_cursor=None)
                return
            else:
                dropped += 1
        if dropped:
            on_drop(dropped)
        yield page if len(kept) == len(page.objects) else replace(page, objects=kept)


def period_dates(window: Window) -> tuple[date, date]:
    """The `start_date`/`end_date` (inclusive) of the period a report window stands for.

    Raises:
        ValueError: the window has no period and is open-ended, so no period can be named.
    """
    start_ms, end_ms = window.period or (window.start_ms, window.end_ms)
    if start_ms is None or end_ms is None:
        raise ValueError(f"window {window} has no period; period reports need a bounded period")
    return from_ms(start_ms).date(), from_ms(end_ms - 1).date()


def month_of(moment: datetime) -> tuple[date, date]:
    """First and last day of the UTC calendar month containing `moment`."""
    utc = moment.astimezone(timezone.utc)
    last_day = calendar.monthrange(utc.year, utc.month)[1]
    return date(utc.year, utc.month, 1), date(utc.year, utc.month, last_day)

