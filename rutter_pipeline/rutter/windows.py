"""A time window, how a backfill window or an increment is asked of the API, and how answers are held to it.

See docs/architecture.md ("Windows") for why each `WindowBy` maps as it does. The server is trusted to
filter, but not blindly: an object whose window timestamp lies outside the window is dropped (and
counted), so adjacent windows never both deliver it.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from rutter_pipeline.rutter.catalog import Endpoint, Incremental, WindowBy
from rutter_pipeline.rutter.paging import Page
from rutter_pipeline.rutter.timeutil import from_ms, iso_to_ms, ms_to_iso


@dataclass(frozen=True)
class Window:
    """A half-open time window [start_ms, end_ms) in Unix milliseconds.

    `start_ms=None` reaches back to the beginning of time (the first backfill window takes everything older);
    `end_ms=None` reaches up to now and beyond (the latest window). Adjacent windows `[a, b)` and `[b, c)`
    together cover every instant exactly once; the API's `*_max` bounds are inclusive, so a window asks for
    `*_max = end_ms - 1`.
    """

    start_ms: int | None
    end_ms: int | None
    #: The calendar period [start, end) in ms this window stands for, when it is a partition's month; period
    #: reports (income statements, ...) are asked for this period even when the window itself is open-ended.
    period: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.start_ms is not None and self.end_ms is not None and self.start_ms >= self.end_ms:
            raise ValueError(f"empty window: start {self.start_ms} >= end {self.end_ms}")

    @property
    def is_first(self) -> bool:
        """True when the window has no lower bound."""
        return self.start_ms is None

    def contains(self, ms: int) -> bool:
        """Whether an instant lies in the window."""
        return (self.start_ms is None or ms >= self.start_ms) and (self.end_ms is None or ms < self.end_ms)

    @property
    def inclusive_max_ms(self) -> int | None:
        """The API's inclusive upper bound for this window (`end_ms - 1`), or None when open-ended."""
        return None if self.end_ms is None else self.end_ms - 1

    def __str__(self) -> str:
        start = "-inf" if self.start_ms is None else ms_to_iso(self.start_ms)
        end = "+inf" if self.end_ms is None else ms_to_iso(self.end_ms)
        return f"[{start}, {end})"


ASCENDING_SYNC = "last_synced_at ASC"
ASCENDING_CREATED = "created_at ASC"
DESCENDING_CREATED = "created_at DESC"

#: Lists one endpoint's pages for the given query parameters.
ListPages = Callable[[dict[str, Any]], Iterator[Page]]


def window_params(endpoint: Endpoint, window: Window) -> dict[str, Any]:
    """Query parameters restricting a list endpoint to `window` (CREATED_AT and CREATED_AT_SORTED only).

    CREATED_AT_SORTED uses only the documented `filter` operator `>`: `created_at > start - 1 ms` is
    `created_at >= start` at the API's millisecond precision. The end is not asked for (`<` is not
    documented): the listing is sorted ascending and the client stops at the window's end.
    """
    if endpoint.window_by is WindowBy.CREATED_AT:
        return {"created_at_min": window.start_ms, "created_at_max": window.inclusive_max_ms}
    if endpoint.window_by is WindowBy.CREATED_AT_SORTED:
        return window_params_for_documents(window)
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
    keep_undated: bool = True,
) -> Iterator[Page]:
    """Drop objects whose `field` lies outside `window`; with `stop_at_end`, end at the first one past it.

    Args:
        pages: pages as served.
        field: the window timestamp field.
        window: the window the request asked for.
        stop_at_end: the pages are sorted ascending by `field` (CREATED_AT_SORTED windows): the first object
            at or after the window's end ends the pull; it and everything after it belong to later windows.
        on_drop: called with the number of objects dropped from a page for lying outside the window.
        keep_undated: keep objects without a usable timestamp (else they are dropped: they belong to another
            window).

    Yields:
        Pages with only the window's objects.
    """
    for page in pages:
        kept: list[dict[str, Any]] = []
        dropped = 0
        for obj in page.objects:
            ms = _timestamp_ms(obj, field)
            if ms is None and not keep_undated:
                dropped += 1
            elif ms is None or window.contains(ms):
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


def documents_in_window(list_pages: ListPages, window: Window, *, on_drop: Callable[[int], None]) -> Iterator[Page]:
    """The objects created in `window` (CREATED_AT_SORTED); the first window also gets those without a date.

    Objects with a null `created_at` belong to the first window. Where the API sorts them is not documented,
    so both orders are handled: when the ascending listing starts with an undated object, nulls sort first and
    the first window has already read them all; when it starts with a dated one and was cut at the window's
    end, nulls (if any) sort last, so first in descending order, and are read from the top of a
    `created_at DESC` listing up to the first dated object (at most one page read in vain).
    """
    ascending = list_pages(window_params_for_documents(window))
    if not window.is_first:
        yield from hold_to_window(
            ascending, field="created_at", window=window, stop_at_end=True, on_drop=on_drop, keep_undated=False
        )
        return
    seen: dict[str, Any] = {"first": None, "to_the_end": False}

    def watched(pages: Iterator[Page]) -> Iterator[Page]:
        for page in pages:
            if seen["first"] is None and page.objects:
                seen["first"] = page.objects[0]
            yield page
        seen["to_the_end"] = True

    yield from hold_to_window(watched(ascending), field="created_at", window=window, stop_at_end=True, on_drop=on_drop)
    first = seen["first"]
    if first is None or seen["to_the_end"] or _timestamp_ms(first, "created_at") is None:
        return
    yield from _leading_undated(list_pages({"sort": DESCENDING_CREATED}))


def window_params_for_documents(window: Window) -> dict[str, Any]:
    """`sort` and `filter` of a CREATED_AT_SORTED window (see `window_params`)."""
    params: dict[str, Any] = {"sort": ASCENDING_CREATED}
    if window.start_ms is not None:
        params["filter"] = f'created_at>"{ms_to_iso(window.start_ms - 1)}"'
    return params


def _leading_undated(pages: Iterator[Page]) -> Iterator[Page]:
    """The objects without a `created_at` at the top of a listing, up to the first dated one."""
    for page in pages:
        for n, obj in enumerate(page.objects):
            if _timestamp_ms(obj, "created_at") is not None:
                yield replace(page, objects=page.objects[:n], next_cursor=None)
                return
        yield page


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
    utc = moment.astimezone(UTC)
    last_day = calendar.monthrange(utc.year, utc.month)[1]
    return date(utc.year, utc.month, 1), date(utc.year, utc.month, last_day)
