"""`RutterClient`: the one way the project reads from Rutter.

It composes the pieces that each live in their own module: `transport` (HTTP, retries, rate limit),
`paging` (cursors), `windows` (time windows and increments), `connections` (connection health).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from rutter_pipeline.rutter import catalog
from rutter_pipeline.rutter.auth import Credentials
from rutter_pipeline.rutter.catalog import Endpoint, Incremental, Kind, WindowBy
from rutter_pipeline.rutter.config import DEFAULT_API_VERSION, check_api_version, check_base_url
from rutter_pipeline.rutter.connections import (
    Connection,
    ConnectionDetails,
    ConnectionStatus,
    parse_connections,
    parse_details,
    parse_status,
)
from rutter_pipeline.rutter.errors import ClientConfigError, InvalidCredentials, ResponseError, RutterError
from rutter_pipeline.rutter.paging import Page, iter_pages
from rutter_pipeline.rutter.ratelimit import RateLimiter, SlidingWindowRateLimiter
from rutter_pipeline.rutter.retry import RetryPolicy
from rutter_pipeline.rutter.stats import ClientStats
from rutter_pipeline.rutter.transport import Transport
from rutter_pipeline.rutter.windows import (
    Window,
    changed_params,
    documents_in_window,
    hold_to_window,
    month_of,
    period_dates,
    window_params,
)

__all__ = ["Page", "RutterClient"]

log = logging.getLogger("rutter_pipeline.rutter")

CONNECTION_STATUSES = frozenset({"active", "unhealthy", "not_ready", "needs_reauth", "disabled", "any"})


class RutterClient:
    """A thread-safe client for one Rutter organisation.

    Args:
        base_url: API root including `/versioned` (production, Rutter's sandbox, or the local sandbox).
        client_id: the organisation's client id.
        client_secret: the organisation's client secret (never logged, never in `repr`).
        api_version: sent as `X-Rutter-Version`.
        rate_limiter: shared budget; default a new `SlidingWindowRateLimiter()` for this client.
        retry: how retryable failures are retried.
        page_size: `limit` asked for on list endpoints.
        timeout_s: connect/read timeout per attempt.
        pool_size: pooled HTTP connections; at least the number of threads sharing the client.
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        api_version: str = DEFAULT_API_VERSION,
        rate_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 500,
        timeout_s: float = 60.0,
        pool_size: int = 16,
    ) -> None:
        if not isinstance(page_size, int) or page_size < 1:
            raise ClientConfigError(f"page_size must be a positive integer, got {page_size!r}")
        if timeout_s <= 0 or pool_size < 1:
            raise ClientConfigError("timeout_s and pool_size must be positive")
        self.base_url = check_base_url(base_url)
        self.api_version = check_api_version(api_version)
        self.page_size = page_size
        self.stats = ClientStats()
        self.rate_limiter = rate_limiter if rate_limiter is not None else SlidingWindowRateLimiter()
        # Connections whose optional details could not be read: asked once per client, reported once.
        self._details_unavailable: dict[str, str] = {}
        self._details_lock = threading.Lock()
        self._credentials = Credentials(client_id, client_secret)
        self._transport = Transport(
            base_url=self.base_url,
            credentials=self._credentials,
            api_version=self.api_version,
            rate_limiter=self.rate_limiter,
            retry=retry or RetryPolicy(),
            timeout_s=timeout_s,
            pool_size=pool_size,
            stats=self.stats,
        )

    @property
    def client_id(self) -> str:
        """The organisation's client id."""
        return self._credentials.client_id

    def __repr__(self) -> str:
        return (
            f"RutterClient(base_url={self.base_url!r}, client_id={self.client_id!r}, api_version={self.api_version!r})"
        )

    def close(self) -> None:
        """Close pooled HTTP connections."""
        self._transport.close()

    def __enter__(self) -> RutterClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- connections ------------------------------------------------------------------------------------

    def list_connections(self, status: str | None = None) -> list[Connection]:
        """The organisation's connections, optionally only those with `status` (active, not_ready, ...)."""
        if status is not None and status not in CONNECTION_STATUSES:
            raise ValueError(f"unknown connection status {status!r}; use one of {sorted(CONNECTION_STATUSES)}")
        reply = self._transport.get(catalog.CONNECTIONS_PATH, {"status": status}, access_token=None)
        return parse_connections(reply.body, url=reply.url, request_id=reply.request_id)

    def connection_status(self, access_token: str) -> ConnectionStatus:
        """Readiness and health of one connection (`GET /connections/status`)."""
        reply = self._transport.get(catalog.CONNECTION_STATUS_PATH, {}, access_token=access_token)
        return parse_status(reply.body, url=reply.url, request_id=reply.request_id)

    def connection_details(self, access_token: str) -> ConnectionDetails:
        """Sync timestamps and unavailable objects of one connection (`GET /connections/access_token`)."""
        reply = self._transport.get(catalog.CONNECTION_DETAILS_PATH, {}, access_token=access_token)
        return parse_details(reply.body, url=reply.url, request_id=reply.request_id)

    def optional_connection_details(self, access_token: str, *, connection_id: str) -> ConnectionDetails | None:
        """The connection's details, or None when Rutter does not serve them (404) or keeps failing (5xx).

        The details only refine how far back an incremental pull re-reads, so their absence is not an error:
        callers fall back to a fixed lookback. A connection whose details failed is not asked again by this
        client (one client serves one Dagster run), and the fallback is logged once.

        Raises:
            InvalidCredentials: the organisation's credentials are refused (nothing else will work either).
        """
        with self._details_lock:
            if access_token in self._details_unavailable:
                return None
        try:
            return self.connection_details(access_token)
        except InvalidCredentials:
            raise
        except RutterError as exc:
            reason = str(exc.error_code or exc.status or type(exc).__name__)
            with self._details_lock:
                first = access_token not in self._details_unavailable
                self._details_unavailable[access_token] = reason
            if first:
                log.warning(
                    "connection details of %s unavailable (%s); falling back to a fixed lookback for this run",
                    connection_id,
                    reason,
                )
            return None

    # --- objects -------------------------------------------------------------------------------------------

    def iter_pages(
        self, path: str, *, access_token: str | None, response_key: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[Page]:
        """Every page of a list endpoint, one at a time, following `next_cursor` to the end.

        Raises:
            ResponseError: a body without the documented shape; `CursorCycle` when a cursor comes back.
            RutterError: any API error (after retries for retryable ones).
        """
        return iter_pages(
            self._transport,
            path,
            access_token=access_token,
            response_key=response_key,
            params=dict(params or {}),
            page_size=self.page_size,
        )

    def window_pages(self, endpoint: Endpoint, *, access_token: str, window: Window) -> Iterator[Page]:
        """The endpoint's objects in one backfill window, per `endpoint.window_by`.

        Adjacent windows together return every object exactly once (for objects that do not change while
        they are pulled). NONE endpoints return everything in the first window and nothing (without a
        request) in any other; PERIOD endpoints return the reports of `window.period` as one page.
        """
        if endpoint.window_by is WindowBy.NONE:
            return self._everything(endpoint, access_token=access_token) if window.is_first else iter(())
        if endpoint.window_by is WindowBy.PERIOD:
            start, end = period_dates(window)
            return self._report_page(endpoint, access_token=access_token, start_date=start, end_date=end)

        def list_pages(params: dict[str, Any]) -> Iterator[Page]:
            return self.iter_pages(
                endpoint.path, access_token=access_token, response_key=endpoint.response_key, params=params
            )

        def on_drop(count: int) -> None:
            self.stats.add(dropped_outside_window=count)

        if endpoint.window_by is WindowBy.CREATED_AT_SORTED:
            return documents_in_window(list_pages, window, on_drop=on_drop)
        return hold_to_window(
            list_pages(window_params(endpoint, window)),
            field="created_at",
            window=window,
            stop_at_end=False,
            on_drop=on_drop,
        )

    def changed_pages(self, endpoint: Endpoint, *, access_token: str, since_ms: int | None) -> Iterator[Page]:
        """Objects changed since `since_ms` (inclusive), per `endpoint.incremental`.

        LAST_SYNCED_AT pages come sorted by `last_synced_at` ascending; SNAPSHOT endpoints return all
        objects (reports: the current calendar month) whatever `since_ms` is.
        """
        if endpoint.incremental is Incremental.SNAPSHOT:
            return self._everything(endpoint, access_token=access_token)
        return self.iter_pages(
            endpoint.path,
            access_token=access_token,
            response_key=endpoint.response_key,
            params=changed_params(endpoint, since_ms),
        )

    def get_object(self, endpoint: Endpoint, *, access_token: str) -> dict[str, Any]:
        """The single object of a SINGLE endpoint (`/accounting/company_info` → `{"company_info": {...}}`)."""
        reply = self._transport.get(endpoint.path, {}, access_token=access_token)
        obj = reply.body.get(endpoint.response_key) if isinstance(reply.body, dict) else None
        if not isinstance(obj, dict):
            raise ResponseError(
                status=200,
                error_message=f"{endpoint.response_key!r} is missing or not an object",
                request_id=reply.request_id,
                url=reply.url,
            )
        return obj

    def get_reports(
        self, endpoint: Endpoint, *, access_token: str, start_date: date | str, end_date: date | str
    ) -> list[dict[str, Any]]:
        """The period reports (balance sheets, ...) between two dates, both inclusive."""
        return [
            report
            for page in self._report_page(endpoint, access_token=access_token, start_date=start_date, end_date=end_date)
            for report in page.objects
        ]

    def deleted_event_pages(
        self, *, access_token: str, since_ms: int | None, resources: Iterable[str]
    ) -> Iterator[Page]:
        """`object_deleted` events since `since_ms` (inclusive) for the given resource names (INVOICE, ...)."""
        names = sorted({name.strip().upper() for name in resources if name.strip()})
        if not names:
            raise ValueError("deleted_event_pages needs at least one resource name, e.g. INVOICE")
        return self.iter_pages(
            catalog.EVENTS_PATH,
            access_token=access_token,
            response_key=catalog.EVENTS_RESPONSE_KEY,
            params={"type": catalog.OBJECT_DELETED, "last_synced_at_min": since_ms, "resources": ",".join(names)},
        )

    # --- helpers -------------------------------------------------------------------------------------------

    def _everything(self, endpoint: Endpoint, *, access_token: str) -> Iterator[Page]:
        if endpoint.kind is Kind.SINGLE:
            return self._single_page(endpoint, access_token=access_token)
        if endpoint.kind is Kind.REPORT:
            start, end = month_of(datetime.now(UTC))
            return self._report_page(endpoint, access_token=access_token, start_date=start, end_date=end)
        return self.iter_pages(endpoint.path, access_token=access_token, response_key=endpoint.response_key)

    def _single_page(self, endpoint: Endpoint, *, access_token: str) -> Iterator[Page]:
        yield Page(objects=[self.get_object(endpoint, access_token=access_token)], next_cursor=None, request_id=None)
        self.stats.add(pages=1)

    def _report_page(
        self, endpoint: Endpoint, *, access_token: str, start_date: date | str, end_date: date | str
    ) -> Iterator[Page]:
        start, end = _iso_date(start_date, "start_date"), _iso_date(end_date, "end_date")
        if start > end:
            raise ValueError(f"start_date {start} is after end_date {end}")
        # Report endpoints take no `limit`; a report list is short but may still carry a cursor.
        yield from iter_pages(
            self._transport,
            endpoint.path,
            access_token=access_token,
            response_key=endpoint.response_key,
            params={"start_date": start, "end_date": end},
            page_size=None,
        )


def _iso_date(value: date | str, name: str) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a date or YYYY-MM-DD, got {value!r}") from None
