"""One GET against the Rutter API: pooled session, auth, rate limit, retries, typed errors.

Everything above this module deals in parsed JSON bodies and `RutterError`s; everything HTTP-specific
(which failures are worth another attempt, how long to wait, what to log) is decided here.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from rutter_pipeline.rutter.auth import Credentials
from rutter_pipeline.rutter.errors import RateLimited, RutterError, TransportError, error_from_response
from rutter_pipeline.rutter.jsonbody_items import parse_body_by_item
from rutter_pipeline.rutter.ratelimit import RateLimiter
from rutter_pipeline.rutter.redact import protect_third_party_logs, redact_text, redact_url
from rutter_pipeline.rutter.retry import RetryPolicy
from rutter_pipeline.rutter.stats import ClientStats

logger = logging.getLogger("rutter_pipeline.rutter")

REQUEST_ID_HEADER = "X-Rutter-Request-ID"

#: Failures below the HTTP layer that a new attempt can cure (a cut body surfaces as ChunkedEncodingError).
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class Reply:
    """A successful response: the parsed JSON body, its request id and the redacted URL it came from."""

    body: Any
    request_id: str | None
    url: str


@dataclass(frozen=True)
class _Failure:
    error: RutterError
    headers: CaseInsensitiveDict[str]


class Transport:
    """Sends GET requests to one Rutter base URL on behalf of one organisation.

    Args:
        base_url: e.g. `https://production.rutterapi.com/versioned`.
        credentials: the organisation's client id and secret.
        api_version: sent as `X-Rutter-Version`.
        rate_limiter: asked before every attempt.
        retry: retry policy for retryable failures.
        timeout_s: connect and read timeout per attempt.
        pool_size: pooled connections kept per host (size it to the number of threads using the client).
        stats: counters to update.
    """

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        api_version: str,
        rate_limiter: RateLimiter,
        retry: RetryPolicy,
        timeout_s: float,
        pool_size: int,
        stats: ClientStats,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self.rate_limiter = rate_limiter
        self.retry = retry
        self.timeout_s = timeout_s
        self.stats = stats
        self._rng = random.Random()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.auth = credentials.basic_auth()
        self.session.headers.update(
            {"X-Rutter-Version": api_version, "Accept": "application/json", "User-Agent": "rutter-pipeline"}
        )
        protect_third_party_logs()

    def get(self, path: str, params: dict[str, Any], *, access_token: str | None) -> Reply:
        """GET `path` with `params` (and the connection's access token), retrying what is retryable.

        Raises:
            RutterError: the typed error of the last attempt, once retries are exhausted or not allowed.
        """
        url = self.base_url + path
        query = {k: v for k, v in params.items() if v is not None}
        if access_token is not None:
            query["access_token"] = access_token
        shown = redact_url(f"{url}?{urlencode(query)}" if query else url)
        slept = 0.0
        attempt = 1
        while True:
            self.stats.add(requests=1, waited_s=self.rate_limiter.acquire())
            outcome = self._attempt(url, query, shown=shown, access_token=access_token)
            if isinstance(outcome, Reply):
                return outcome
            error = outcome.error
            rate_limited = isinstance(error, RateLimited)
            delay = self.retry.delay_s(attempt, headers=outcome.headers, rng=self._rng, rate_limited=rate_limited)
            if not error.retryable or attempt >= self.retry.max_attempts or slept + delay > self.retry.max_total_wait_s:
                if error.retryable:
                    error.add_note(f"gave up after {attempt} attempts and {slept:.1f}s of waiting")
                    logger.error("Rutter request failed for good after %d attempts: %s", attempt, error)
                raise error
            if rate_limited:
                self.rate_limiter.backoff(delay)
            logger.warning("%s; attempt %d of %d, retrying in %.2fs", error, attempt, self.retry.max_attempts, delay)
            time.sleep(delay)
            slept += delay
            attempt += 1
            self.stats.add(retries=1, waited_s=delay)

    def _attempt(self, url: str, query: dict[str, Any], *, shown: str, access_token: str | None) -> Reply | _Failure:
        secrets = (access_token, self._credentials.client_secret)
        try:
            response = self.session.get(url, params=query, timeout=self.timeout_s)
        except _TRANSIENT as exc:
            message = f"{type(exc).__name__}: {redact_text(str(exc), secrets)}"
            return _Failure(TransportError(status=None, error_message=message, url=shown), CaseInsensitiveDict())
        request_id = response.headers.get(REQUEST_ID_HEADER)
        if not 200 <= response.status_code < 300:
            error = error_from_response(
                status=response.status_code,
                body=response.content,
                request_id=request_id,
                url=shown,
                secrets=secrets,
            )
            return _Failure(error, response.headers)
        try:
            # An item that does not decode (a bare NaN, nesting too deep) is handed on for the loader to
            # quarantine; only a body broken outside its items is refused.
            body = parse_body_by_item(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            # Without a framing error a cut body still shows up here; asking again is the cure either way.
            reason = redact_text(str(exc), secrets)[:200]
            error = TransportError(
                status=response.status_code,
                error_message=f"response body is not valid JSON ({len(response.content)} bytes; truncated?): {reason}",
                request_id=request_id,
                url=shown,
            )
            return _Failure(error, response.headers)
        logger.debug("GET %s -> %d (request id %s)", shown, response.status_code, request_id)
        return Reply(body=body, request_id=request_id, url=shown)

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()
