"""Checks of the client's settings, with errors that name the setting (`settings.py` reads the variables)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from rutter_pipeline.rutter.errors import ClientConfigError

PRODUCTION_URL = "https://production.rutterapi.com/versioned"
DEFAULT_API_VERSION = "2024-08-31"

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_base_url(url: str, *, source: str = "base_url") -> str:
    """The base URL without a trailing slash; raises ClientConfigError naming `source` when malformed."""
    parts = urlsplit(url.strip()) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ClientConfigError(f"{source} must be an http(s) URL such as {PRODUCTION_URL}, got {url!r}")
    return url.strip().rstrip("/")


def check_api_version(version: str, *, source: str = "api_version") -> str:
    """The API version (a date such as 2024-08-31); raises ClientConfigError naming `source` when malformed."""
    if not isinstance(version, str) or not _VERSION.match(version.strip()):
        raise ClientConfigError(f"{source} must be a Rutter API version like {DEFAULT_API_VERSION}, got {version!r}")
    return version.strip()
