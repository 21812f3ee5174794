"""Typed Rutter errors built from the documented error envelope.

Rutter answers errors with `{"error_type", "error_code", "error_message"}`; `error_code` is stable and says
more than the HTTP status (PRODUCT_NOT_READY may come with any status), so it is looked at first, then the
status. Every error carries the request id Rutter support asks for and the URL with its access token masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rutter_pipeline.rutter.redact import redact_text


class ClientConfigError(ValueError):
    """The client was configured with a missing or malformed setting (names the setting, never its secret)."""


class RutterError(Exception):
    """An error answered by (or on the way to) the Rutter API.

    Attributes:
        status: HTTP status, or None when no response arrived.
        error_type: Rutter's `error_type`, if the body had one.
        error_code: Rutter's `error_code`, if the body had one.
        error_message: Rutter's `error_message`, or a description of what went wrong.
        request_id: the `X-Rutter-Request-ID` response header, if any.
        url: the request URL with secrets masked.
    """

    #: Whether asking again later can succeed (rate limits, server and transport failures).
    retryable = False

    def __init__(
        self,
        *,
        status: int | None,
        error_type: str | None = None,
        error_code: str | None = None,
        error_message: str = "",
        request_id: str | None = None,
        url: str = "",
    ) -> None:
        self.status = status
        self.error_type = error_type
        self.error_code = error_code
        self.error_message = error_message
        self.request_id = request_id
        self.url = url
        super().__init__(self._describe())

    def _describe(self) -> str:
        label = " ".join(str(part) for part in (self.status, self.error_code or self.error_type) if part)
        where = f"GET {self.url}" if self.url else "request"
        request = f", request id {self.request_id}" if self.request_id else ""
        return f"Rutter {label or 'error'}: {self.error_message} ({where}{request})"


class BadRequest(RutterError):
    """400: the request's parameters were rejected."""


class InvalidCredentials(RutterError):
    """401 or INVALID_CREDENTIALS: the client id/secret (or the access token) is wrong."""


class NotSupported(RutterError):
    """404: the endpoint is not served for this connection's platform."""


class NotFound(RutterError):
    """410: the requested resource does not exist."""


class Conflict(RutterError):
    """409: idempotency conflict."""


class RateLimited(RutterError):
    """429: Rutter's organisation rate limit, still hit when the retry budget ran out."""

    retryable = True


class PlatformError(RutterError):
    """450: the commerce or accounting platform rejected the request."""


class PlatformRateLimited(RutterError):
    """452: the platform's own rate limit, still hit when the retry budget ran out."""

    retryable = True


class ServerError(RutterError):
    """5xx: Rutter failed, still failing when the retry budget ran out."""

    retryable = True


class ProductNotReady(RutterError):
    """PRODUCT_NOT_READY: the connection's initial sync has not finished; data is not readable yet."""


class NeedsReauthentication(RutterError):
    """NEEDS_UPDATE: the merchant must re-authenticate the connection."""


class ConnectionDisabled(RutterError):
    """CONNECTION_DISABLED: the connection is disabled."""


class ProductNotAllowed(RutterError):
    """PRODUCT_NOT_ALLOWED: the organisation's plan does not include this product."""


class TransportError(RutterError):
    """No usable response: connection failure, timeout or truncated body, still failing after retries."""

    retryable = True


class ResponseError(RutterError):
    """A 2xx answer whose body does not have the documented shape."""


class CursorCycle(ResponseError):
    """A list handed back a cursor it had already given: following it would page forever.

    The message names the endpoint and the page numbers, never the cursor itself (cursors may carry filters).
    """


_BY_CODE: dict[str, type[RutterError]] = {
    "PRODUCT_NOT_READY": ProductNotReady,
    "NEEDS_UPDATE": NeedsReauthentication,
    "CONNECTION_DISABLED": ConnectionDisabled,
    "INVALID_CREDENTIALS": InvalidCredentials,
    "PRODUCT_NOT_ALLOWED": ProductNotAllowed,
}

_BY_STATUS: dict[int, type[RutterError]] = {
    400: BadRequest,
    401: InvalidCredentials,
    404: NotSupported,
    409: Conflict,
    410: NotFound,
    429: RateLimited,
    450: PlatformError,
    452: PlatformRateLimited,
}

_BODY_EXCERPT = 200


def error_class(status: int, error_code: str | None) -> type[RutterError]:
    """The exception class for a response: by `error_code` first, then by HTTP status."""
    if error_code and error_code.upper() in _BY_CODE:
        return _BY_CODE[error_code.upper()]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return RutterError


def parse_envelope(body: bytes) -> dict[str, Any] | None:
    """The `{"error_type", "error_code", "error_message"}` object, or None when the body is not one."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(parsed, dict):
        return None
    # Some gateways nest the envelope under "error"; accept both rather than lose the code.
    nested = parsed.get("error")
    if isinstance(nested, dict) and not any(k in parsed for k in ("error_code", "error_type")):
        parsed = nested
    return parsed if any(k in parsed for k in ("error_code", "error_type", "error_message")) else None


def error_from_response(
    *, status: int, body: bytes, request_id: str | None, url: str, secrets: Iterable[str | None] = ()
) -> RutterError:
    """Build the typed error for a non-2xx response.

    Args:
        status: the HTTP status.
        body: the raw response body (JSON envelope or anything else, e.g. an HTML page from a proxy).
        request_id: the `X-Rutter-Request-ID` header, if any.
        url: the request URL, already redacted.
        secrets: secret values to mask should the server echo them in its message.

    Returns:
        The matching `RutterError` subclass; a non-JSON body still gives a readable message.
    """
    envelope = parse_envelope(body)
    if envelope is None:
        excerpt = body[:_BODY_EXCERPT].decode("utf-8", errors="replace").strip()
        message = f"non-JSON error body: {redact_text(excerpt, secrets)!r}" if excerpt else "empty error body"
        return error_class(status, None)(status=status, error_message=message, request_id=request_id, url=url)
    code = envelope.get("error_code")
    code = str(code) if code is not None else None
    error_type = envelope.get("error_type")
    return error_class(status, code)(
        status=status,
        error_type=str(error_type) if error_type is not None else None,
        error_code=code,
        error_message=redact_text(str(envelope.get("error_message") or ""), secrets),
        request_id=request_id,
        url=url,
    )
