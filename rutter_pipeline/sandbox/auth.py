"""Request checks every `/versioned` call passes: API version header and the organisation's Basic auth."""

from __future__ import annotations

import base64
import binascii
import hmac

from rutter_pipeline.sandbox.errors import ApiError, bad_request


def check_version(version: str | None) -> None:
    """A 400 when the `X-Rutter-Version` header is missing."""
    if not version:
        raise bad_request("the X-Rutter-Version header is required (e.g. 2024-08-31)", "MISSING_VERSION_HEADER")


def check_basic_auth(header: str | None, *, client_id: str, client_secret: str) -> None:
    """A 401 `INVALID_CREDENTIALS` unless the header is `Basic base64(client_id:client_secret)`.

    The error text never echoes what was sent: it may be a real secret.
    """
    expected = f"{client_id}:{client_secret}".encode()
    sent = b""
    if header and header.startswith("Basic "):
        try:
            sent = base64.b64decode(header[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            sent = b""
    if not hmac.compare_digest(sent, expected):
        raise ApiError(
            401,
            "INVALID_CREDENTIALS",
            "INVALID_CREDENTIALS",
            "Basic authentication with a valid client id and secret is required",
        )
