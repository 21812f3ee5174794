"""Retries, typed errors and request shape, against a real local HTTP server replaying scripted answers."""

from __future__ import annotations

import base64
import logging
import time

import pytest

from rutter_pipeline.rutter import errors
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.ratelimit import SlidingWindowRateLimiter
from rutter_pipeline.rutter.retry import RetryPolicy
from rutter_pipeline_tests.rutter.conftest import SECRET, TOKEN, Answer

OK = Answer(body={"orders": [{"id": "1"}], "next_cursor": None})


def _envelope(code: str, message: str = "went wrong") -> dict[str, str]:
    return {"error_type": "SOME_TYPE", "error_code": code, "error_message": message}


def _pull(client: RutterClient) -> list[dict]:
    return [o for page in client.iter_pages("/orders", access_token=TOKEN, response_key="orders") for o in page.objects]


def test_requests_carry_auth_version_token_and_limit(replay_client):
    script, client = replay_client
    assert _pull(client) == []
    seen = script.seen[0]
    assert seen.path == "/versioned/orders"
    assert seen.query == {"access_token": TOKEN, "limit": "2"}
    assert seen.headers["X-Rutter-Version"] == "2024-08-31"
    expected = base64.b64encode(f"replay-client:{SECRET}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {expected}"


@pytest.mark.parametrize("status", [429, 452, 500, 502, 503, 504])
def test_retryable_status_is_retried(replay_client, status):
    script, client = replay_client
    script.add(Answer(status=status, body=_envelope("TRANSIENT")), OK)
    assert _pull(client) == [{"id": "1"}]
    assert client.stats.retries == 1
    assert client.stats.requests == 2


@pytest.mark.parametrize("action", ["drop", "truncate"])
def test_broken_responses_are_retried(replay_client, action):
    script, client = replay_client
    script.add(Answer(action=action, body=OK.body), OK)
    assert _pull(client) == [{"id": "1"}]
    assert client.stats.retries == 1


def test_invalid_json_in_a_success_is_retried_then_reported(replay_client):
    script, client = replay_client
    script.add(*[Answer(body=b'{"orders": [')] * 4)
    with pytest.raises(errors.TransportError, match="not valid JSON") as caught:
        _pull(client)
    assert len(script.seen) == 4
    assert caught.value.request_id == "req-4"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, errors.BadRequest),
        (401, errors.InvalidCredentials),
        (404, errors.NotSupported),
        (409, errors.Conflict),
        (410, errors.NotFound),
        (450, errors.PlatformError),
    ],
)
def test_non_retryable_status_raises_at_once(replay_client, status, expected):
    script, client = replay_client
    script.add(Answer(status=status, body=_envelope("SOMETHING", f"status {status} says no")))
    with pytest.raises(expected) as caught:
        _pull(client)
    error = caught.value
    assert len(script.seen) == 1
    assert (error.status, error.error_code, error.error_type) == (status, "SOMETHING", "SOME_TYPE")
    assert error.request_id == "req-1"
    assert f"status {status} says no" in str(error) and "req-1" in str(error)
    assert "/versioned/orders" in error.url and TOKEN not in str(error) and TOKEN not in error.url
    assert "access_token=%2A%2A%2A" in error.url or "access_token=***" in error.url


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "PRODUCT_NOT_READY", errors.ProductNotReady),
        (409, "PRODUCT_NOT_READY", errors.ProductNotReady),
        (503, "PRODUCT_NOT_READY", errors.ProductNotReady),
        (400, "NEEDS_UPDATE", errors.NeedsReauthentication),
        (401, "NEEDS_UPDATE", errors.NeedsReauthentication),
        (403, "CONNECTION_DISABLED", errors.ConnectionDisabled),
        (400, "INVALID_CREDENTIALS", errors.InvalidCredentials),
    ],
)
def test_error_code_wins_over_status_and_is_not_retried(replay_client, status, code, expected):
    script, client = replay_client
    script.add(Answer(status=status, body=_envelope(code)))
    with pytest.raises(expected):
        _pull(client)
    assert len(script.seen) == 1


def test_non_json_error_body_still_gives_a_clear_error(replay_client):
    script, client = replay_client
    script.add(*[Answer(status=502, body=b"<html>Bad gateway</html>")] * 4)
    with pytest.raises(errors.ServerError, match=r"non-JSON error body.*Bad gateway") as caught:
        _pull(client)
    assert len(script.seen) == 4, "max_attempts bounds the retries"
    assert "gave up after 4 attempts" in "".join(caught.value.__notes__)


class RecordingLimiter(SlidingWindowRateLimiter):
    """A real limiter that also remembers the back-offs it was told about."""

    def __init__(self) -> None:
        super().__init__(1000, 1.0)
        self.backoffs: list[float] = []

    def backoff(self, seconds: float) -> None:
        self.backoffs.append(seconds)
        super().backoff(seconds)


def test_retry_after_is_honoured_and_backs_the_limiter_off(replay):
    script, base_url = replay
    limiter = RecordingLimiter()
    client = RutterClient(base_url=base_url, client_id="id", client_secret=SECRET, rate_limiter=limiter)
    script.add(Answer(status=429, body=_envelope("RATE_LIMIT_EXCEEDED"), headers={"Retry-After": "1"}), OK)
    started = time.monotonic()
    assert _pull(client) == [{"id": "1"}]
    assert time.monotonic() - started >= 1.0
    assert client.stats.waited_s >= 1.0
    assert limiter.backoffs == [1.0]


def test_a_wait_beyond_the_total_budget_gives_up_at_once(replay_client):
    script, client = replay_client
    script.add(Answer(status=429, body=_envelope("RATE_LIMIT_EXCEEDED"), headers={"Retry-After": "120"}))
    started = time.monotonic()
    with pytest.raises(errors.RateLimited):
        _pull(client)
    assert time.monotonic() - started < 2.0
    assert len(script.seen) == 1


def test_connection_refused_becomes_transport_error_without_the_token():
    client = RutterClient(
        base_url="http://127.0.0.1:9/versioned",
        client_id="id",
        client_secret=SECRET,
        retry=RetryPolicy(max_attempts=2, base_delay_s=0.01),
        rate_limiter=SlidingWindowRateLimiter(100, 1.0),
    )
    with pytest.raises(errors.TransportError) as caught:
        _pull(client)
    text = str(caught.value) + "".join(caught.value.__notes__)
    assert "ConnectionError" in text and TOKEN not in text and SECRET not in text
    assert caught.value.__context__ is None, "the requests exception (with the raw URL) is not chained"
    assert client.stats.requests == 2


def test_no_secret_in_logs_even_at_debug(replay_client, caplog):
    script, client = replay_client
    script.add(Answer(status=503, body=_envelope("DOWN", f"echoing {TOKEN}")), Answer(status=400, body=b"nope"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(errors.BadRequest) as caught:
        _pull(client)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "retrying" in logged and "urllib3" in {r.name.split(".")[0] for r in caplog.records}
    for secret in (TOKEN, SECRET):
        assert secret not in logged
        assert secret not in str(caught.value)
    assert secret not in repr(client)
