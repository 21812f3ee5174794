"""Time conversions at the API boundary: query parameters are Unix milliseconds, bodies ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimestampOutOfRange(ValueError):
    """A well-formed timestamp for an instant outside years 1-9999 UTC, which Python cannot hold."""


def to_ms(moment: datetime) -> int:
    """Unix milliseconds of an aware datetime (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Integer arithmetic: float timestamps lose the millisecond for dates far from 1970.
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime for Unix milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp or date from a response body into an aware UTC datetime.

    Accepts `2023-01-02T02:34:56.000Z`, offsets (`+02:00`), no fraction, and plain dates (`2023-01-02`,
    taken as midnight UTC). Raises ValueError for anything else, and for instants outside years 1-9999 UTC.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    parsed = datetime.fromisoformat(candidate)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # `0001-01-01T00:00:00+01:00` is a valid spelling of an instant before year 1.
        raise TimestampOutOfRange(f"timestamp out of range (years 1-9999 UTC): {text!r}") from None


def format_iso(moment: datetime) -> str:
    """ISO 8601 with milliseconds and `Z`, the form Rutter sends: `2023-01-02T02:34:56.000Z`."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_to_ms(text: str) -> int:
    """Unix milliseconds of an ISO 8601 string."""
    return to_ms(parse_iso(text))


def ms_to_iso(ms: int) -> str:
    """ISO 8601 (`...000Z`) of Unix milliseconds."""
    return format_iso(from_ms(ms))
