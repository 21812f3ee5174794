"""Keep secrets out of URLs, log lines and exception texts.

Rutter takes the connection's `access_token` as a query parameter, so every request URL carries a secret.
Anything that turns a URL or a third-party error message into text (logs, exceptions, metadata) goes
through here first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

#: Query parameters whose values are secrets.
SECRET_PARAMS = frozenset({"access_token", "client_secret", "secret", "token", "password"})

_SECRET_IN_TEXT = re.compile(
    r"(?P<key>\b(?:" + "|".join(sorted(SECRET_PARAMS)) + r"))(?P<sep>=|%3D)(?P<value>[^&\s'\"<>)]+)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """The URL with the values of secret query parameters replaced by `***`.

    Args:
        url: an absolute or relative URL.

    Returns:
        The same URL, secret parameter values masked; everything else untouched.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(key, MASK if key.lower() in SECRET_PARAMS else value) for key, value in pairs]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*,")))


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask `access_token=...`-style pairs and any of the given secret values inside free text.

    Args:
        text: a message that may quote a URL or a secret (e.g. a requests/urllib3 exception text).
        secrets: literal secret values (access token, client secret) to mask wherever they appear.

    Returns:
        The text with every secret replaced by `***`.
    """
    cleaned = _SECRET_IN_TEXT.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)
    # Longest first, so a secret that contains another one is masked whole.
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        cleaned = cleaned.replace(secret, MASK)
    return cleaned


class _RedactingFilter(logging.Filter):
    """Masks secrets in records of loggers we do not own (urllib3 logs full request lines at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


_FILTER = _RedactingFilter()


def protect_third_party_logs() -> None:
    """Attach the redacting filter to urllib3's connection-pool logger (idempotent)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
