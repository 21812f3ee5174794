"""Client settings from environment variables, validated with errors that name the variable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
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


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Constructor arguments of `RutterClient` from `RUTTER_*` variables.

    `RUTTER_CLIENT_ID` and `RUTTER_CLIENT_SECRET` are required; `RUTTER_BASE_URL` defaults to production
    and `RUTTER_API_VERSION` to 2024-08-31.

    Raises:
        ClientConfigError: naming the missing or malformed variable (never quoting the secret).
    """
    settings: dict[str, Any] = {}
    for variable, argument in (("RUTTER_CLIENT_ID", "client_id"), ("RUTTER_CLIENT_SECRET", "client_secret")):
        value = environ.get(variable, "").strip()
        if not value:
            raise ClientConfigError(f"environment variable {variable} is not set (or empty)")
        settings[argument] = value
    if ":" in settings["client_id"]:
        raise ClientConfigError("environment variable RUTTER_CLIENT_ID must not contain ':'")
    settings["base_url"] = check_base_url(environ.get("RUTTER_BASE_URL") or PRODUCTION_URL, source="RUTTER_BASE_URL")
    settings["api_version"] = check_api_version(
        environ.get("RUTTER_API_VERSION") or DEFAULT_API_VERSION, source="RUTTER_API_VERSION"
    )
    return settings
