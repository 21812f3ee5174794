"""Fixtures for sync tests: a client on the sandbox (warehouses: fixtures/databases.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[RutterClient]:
    """A client talking to the function-scoped sandbox."""
    rutter = RutterClient(base_url=sandbox.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET)
    yield rutter
    rutter.close()
