"""`rutter-pipeline dev --webhooks-port`: the receiver runs beside the UI and records signed events in the inbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import sqlalchemy as sa

from rutter_pipeline.rutter.webhooks import SIGNATURE_HEADER, sign
from rutter_pipeline.sandbox import DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline_tests.fixtures.processes import free_port
from rutter_pipeline_tests.test_cli import REPO, dagster_storage_url  # noqa: F401 - a fixture

READY = "Receiving Rutter webhooks at "


@contextmanager
def dev(env: dict[str, str], webhooks_port: int, *options: str) -> Iterator[list[str]]:
    """`rutter-pipeline dev` until the receiver is up; yields the lines it printed before then."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rutter_pipeline.app.cli",
            "dev",
            "--port",
            str(free_port()),
            "--webhooks-port",
            str(webhooks_port),
            *options,
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith(READY):
            line = process.stdout.readline()
            assert line, f"dev exited ({process.wait()}) before the receiver started: {lines}"
            lines.append(line.strip())
        yield lines
    finally:
        process.terminate()
        process.wait(timeout=60)


def inbox(url: str, count: int) -> list[sa.Row]:
    engine = sa.create_engine(url)
    try:
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as db:
                has_inbox = sa.inspect(db).has_table("_webhook_events", schema="rutter")
                rows = (
                    db.execute(sa.text("select code, connection_id from rutter._webhook_events")).all()
                    if has_inbox
                    else []
                )
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)
    finally:
        engine.dispose()


def base_env(tmp_path: Path, postgres_url: str, dagster_storage_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_", "DAGSTER_"))},
        "WAREHOUSE_URL": postgres_url,
        "RUTTER_DAGSTER_STORAGE_URL": dagster_storage_url,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "RUTTER_PIPELINE_DATA_DIR": str(tmp_path / "data"),
    }


def post(url: str, body: bytes, secret: str) -> int:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)}
    return requests.post(url, data=body, headers=headers, timeout=30).status_code


def test_dev_receives_the_built_in_sandboxs_webhooks(tmp_path, postgres_url, dagster_storage_url) -> None:
    port = free_port()
    # A real WAREHOUSE_URL: the sandbox runs only when chosen.
    with dev(base_env(tmp_path, postgres_url, dagster_storage_url), port, "--sandbox") as lines:
        serves = next(line for line in lines if line.startswith("The built-in sandbox serves "))
        sandbox_url = serves.rsplit(" ", 1)[-1].removesuffix("/versioned")
        assert lines[-1] == f"{READY}http://127.0.0.1:{port}/"
        admin = f"{sandbox_url}/_sandbox"
        amazon = next(
            c["id"]
            for c in requests.get(f"{admin}/connections", timeout=30).json()["connections"]
            if c["status"] == "not_ready"
        )
        assert requests.post(f"{admin}/make_ready", data=json.dumps({"connection_id": amazon}), timeout=30).ok
        assert inbox(postgres_url, 1) == [("INITIAL_UPDATE", amazon)]


def test_dev_with_rutter_credentials_accepts_only_their_secret(tmp_path, postgres_url, dagster_storage_url) -> None:
    port = free_port()
    secret = "acme-client-secret"
    with Sandbox(
        seed=5, profile="empty", client_id="acme", client_secret=secret, webhook_url=f"http://127.0.0.1:{port}/"
    ) as rutter:
        amazon = rutter.add_connection("AMAZON", name="Not ready", ready=False)["id"]
        env = base_env(tmp_path, postgres_url, dagster_storage_url) | {
            "RUTTER_BASE_URL": rutter.base_url,
            "RUTTER_CLIENT_ID": "acme",
            "RUTTER_CLIENT_SECRET": secret,
        }
        with dev(env, port):
            forged = json.dumps({"type": "CONNECTION", "code": "INITIAL_UPDATE", "connection_id": "forged"}).encode()
            assert post(f"http://127.0.0.1:{port}/", forged, DEFAULT_CLIENT_SECRET) == 401
            rutter.make_ready(amazon)
            assert inbox(postgres_url, 1) == [("INITIAL_UPDATE", amazon)]
