"""Injected faults and the organisation rate limit, seen by a real HTTP client."""

from __future__ import annotations

import http.client
import time

import pytest
import requests

from rutter_pipeline.sandbox import Sandbox


def test_injected_429_with_and_without_retry_after(sandbox: Sandbox, rutter_http: requests.Session) -> None:
    sandbox.inject_fault("429", retry_after_s=2)
    sandbox.inject_fault("429")
    first = rutter_http.get(f"{sandbox.base_url}/connections", timeout=10)
    second = rutter_http.get(f"{sandbox.base_url}/connections", timeout=10)
    third = rutter_http.get(f"{sandbox.base_url}/connections", timeout=10)
    assert (first.status_code, first.headers.get("Retry-After")) == (429, "2")
    assert (second.status_code, second.headers.get("Retry-After")) == (429, None)
    assert third.status_code == 200


@pytest.mark.parametrize("kind", ["452", "500", "502", "503"])
def test_injected_status_faults_only_on_their_path(sandbox: Sandbox, rutter_http: requests.Session, kind: str) -> None:
    sandbox.inject_fault(kind, path="/orders", count=2)
    token = sandbox.access_token("SHOPIFY")
    assert rutter_http.get(f"{sandbox.base_url}/connections", timeout=10).status_code == 200
    codes = [
        rutter_http.get(f"{sandbox.base_url}/orders", params={"access_token": token}, timeout=10).status_code
        for _ in range(3)
    ]
    assert codes == [int(kind), int(kind), 200]


def test_drop_truncate_and_slow(sandbox: Sandbox, rutter_http: requests.Session) -> None:
    sandbox.inject_fault("drop")
    with pytest.raises(requests.ConnectionError):
        rutter_http.get(f"{sandbox.base_url}/connections", timeout=10)
    sandbox.inject_fault("truncate")
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.ConnectionError, http.client.IncompleteRead)
    ):
        rutter_http.get(f"{sandbox.base_url}/connections", timeout=10)
    sandbox.inject_fault("slow", delay_s=0.3)
    started = time.monotonic()
    assert rutter_http.get(f"{sandbox.base_url}/connections", timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_org_rate_limit_across_connections(rutter_http: requests.Session) -> None:
    with Sandbox(seed=7, rate_limit=(5, 1.0)) as sb:
        tokens = [sb.access_token("SHOPIFY"), sb.access_token("QUICKBOOKS")]
        codes = [
            rutter_http.get(
                f"{sb.base_url}/connections/status", params={"access_token": tokens[n % 2]}, timeout=10
            ).status_code
            for n in range(7)
        ]
        assert codes == [200] * 5 + [429] * 2
        time.sleep(1.05)
        assert rutter_http.get(f"{sb.base_url}/connections", timeout=10).status_code == 200
