"""Pure logic: URL redaction, backoff arithmetic, server wait hints, error classification."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import requests

from rutter_pipeline.rutter import errors
from rutter_pipeline.rutter.redact import redact_text, redact_url
from rutter_pipeline.rutter.retry import RetryPolicy, server_hint_s


def test_redact_url_masks_only_secret_parameters():
    url = "https://production.rutterapi.com/versioned/orders?access_token=abc-123&cursor=xyz&limit=500"
    assert redact_url(url) == "https://production.rutterapi.com/versioned/orders?access_token=***&cursor=xyz&limit=500"
    assert redact_url("https://host/versioned/connections") == "https://host/versioned/connections"


def test_redact_text_masks_tokens_in_quoted_urls_and_literal_secrets():
    text = "Max retries exceeded with url: /versioned/orders?access_token=abc-123&limit=5 (secret s3cr3t)"
    cleaned = redact_text(text, secrets=["s3cr3t", None])
    assert "abc-123" not in cleaned and "s3cr3t" not in cleaned
    assert "access_token=***&limit=5" in cleaned


def test_full_jitter_stays_under_the_doubling_cap():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0)
    rng = random.Random(1)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.backoff_s(attempt, rng) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= cap
        assert max(delays) > cap * 0.8, "the whole range is used, not a fixed delay"


def test_server_hints():
    now = 1_700_000_000.0
    assert server_hint_s({"Retry-After": "7"}, now=lambda: now) == 7.0
    date = format_datetime(datetime.fromtimestamp(now + 30, tz=UTC), usegmt=True)
    assert server_hint_s({"Retry-After": date}, now=lambda: now) == pytest.approx(30.0)
    assert server_hint_s({"x-ratelimit-reset": str(int(now) + 4)}, now=lambda: now) == pytest.approx(4.0)
    assert server_hint_s({"X-RateLimit-Reset": str(int(now * 1000) + 2500)}, now=lambda: now) == pytest.approx(2.5)
    assert server_hint_s({"RateLimit-Reset": "3"}, now=lambda: now) == 3.0
    assert server_hint_s({"Retry-After": "soon"}, now=lambda: now) is None
    assert server_hint_s({}, now=lambda: now) is None
    policy = RetryPolicy(base_delay_s=0.0, rate_limited_min_delay_s=1.5)
    assert policy.delay_s(1, headers={"Retry-After": "2"}) == 2.0
    assert policy.delay_s(1, headers={"Retry-After": "0"}, rate_limited=True) == 0.0, "a server hint wins"
    assert policy.delay_s(1, headers={}) == 0.0
    assert policy.delay_s(1, headers={}, rate_limited=True) == 1.5


def _canned(status: int, body: bytes, request_id: str | None = "rid-9") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    if request_id:
        response.headers["X-Rutter-Request-ID"] = request_id
    return response


@pytest.mark.parametrize(
    ("status", "body", "expected", "retryable"),
    [
        (400, b'{"error_type":"INVALID_REQUEST","error_code":"BAD","error_message":"bad"}', errors.BadRequest, False),
        (401, b"", errors.InvalidCredentials, False),
        (429, b'{"error_code":"RATE_LIMIT_EXCEEDED"}', errors.RateLimited, True),
        (452, b"{}", errors.PlatformRateLimited, True),
        (500, b"oops", errors.ServerError, True),
        (599, b"oops", errors.ServerError, True),
        (418, b"teapot", errors.RutterError, False),
        (500, b'{"error_code":"product_not_ready","error_message":"wait"}', errors.ProductNotReady, False),
        (400, b'{"error":{"error_code":"NEEDS_UPDATE","error_message":"reauth"}}', errors.NeedsReauthentication, False),
    ],
)
def test_error_classification_from_a_canned_response(status, body, expected, retryable):
    response = _canned(status, body)
    error = errors.error_from_response(
        status=response.status_code,
        body=response.content,
        request_id=response.headers.get("X-Rutter-Request-ID"),
        url="https://h/versioned/orders?access_token=***",
    )
    assert type(error) is expected
    assert error.retryable is retryable
    assert error.status == status and error.request_id == "rid-9"
    assert "rid-9" in str(error) and "access_token=***" in str(error)


def test_error_messages_mask_an_echoed_secret():
    error = errors.error_from_response(
        status=400, body=b'{"error_message": "token tok-1 is bad"}', request_id=None, url="u", secrets=["tok-1"]
    )
    assert "tok-1" not in str(error) and "token *** is bad" in str(error)
