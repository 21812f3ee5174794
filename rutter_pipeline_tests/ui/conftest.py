"""A running `rutter-pipeline dev` on the zero-config demo (sandbox, embedded PostgreSQL) and a real browser.

One dev server and one browser serve every test of the module: starting Dagster costs about half a minute.
The server starts with three months of history; once the connection sensor has registered the connections
(its first tick), the fixture stops both sensors, so the tests' own runs are not queued behind a stream of
sensor runs and a dbt build. The Automation test starts them again, as a user would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest
import requests
from playwright.sync_api import sync_playwright

from rutter_pipeline_tests.fixtures.processes import CHROMIUM, CHROMIUM_ARGS, free_port, wait_until_serving

#: The README's screenshots are refreshed only when asked (`UPDATE_SCREENSHOTS=1`), so a test run leaves the
#: checkout as it was; otherwise they are still taken (a page that cannot be drawn fails the test), in /tmp.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "rutter-pipeline-screenshots"
)


def months_back(count: int) -> str:
    """`YYYY-MM` of the month `count` months before the current one."""
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass
class DevServer:
    """The UI's URL and where the demo keeps its state."""

    url: str
    data_dir: Path
    log: Path

    def graphql(self, query: str, **variables) -> dict:
        """Ask the webserver's GraphQL API, as the UI does."""
        answer = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=60).json()
        assert "errors" not in answer, answer
        return answer["data"]

    def repository(self) -> dict:
        """The code location's repository: its selector fields, schedules and sensors with their states."""
        [repository] = self.graphql(REPOSITORY)["repositoriesOrError"]["nodes"]
        return repository

    def set_sensor(self, name: str, *, running: bool) -> None:
        """Start or stop a sensor, as its toggle on the Automation page does."""
        repository = self.repository()
        sensor = next(s for s in repository["sensors"] if s["name"] == name)
        if running:
            selector = {
                "repositoryName": repository["name"],
                "sensorName": name,
                "repositoryLocationName": repository["location"]["name"],
            }
            self.graphql(
                "mutation ($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }", s=selector
            )
        else:
            self.graphql("mutation ($id: String!) { stopSensor(id: $id) { __typename } }", id=sensor["id"])

    def warehouse(self):
        """A connection to the embedded PostgreSQL's `rutter` database, over its Unix socket."""
        lines = (self.data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()
        return psycopg2.connect(host=lines[4], port=int(lines[3]), user="postgres", dbname="rutter")


REPOSITORY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    name location { name }
    schedules { id name scheduleState { status } }
    sensors { id name sensorState { status ticks(limit: 1) { status } } } } } } }
"""
SENSORS = ("rutter_connections", "refresh_marts_sensor", "rutter_webhook_readiness", "rutter_webhook_changes")


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """`rutter-pipeline dev` with no configuration at all, three months of history, on a free port."""
    home = tmp_path_factory.mktemp("dev")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUTTER_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(home / "dagster_home"),
        RUTTER_PIPELINE_DATA_DIR=str(home / "data"),
        RUTTER_HISTORY_START=months_back(2),
    )
    port = free_port()
    log = home / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rutter_pipeline.app.cli", "dev", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = DevServer(url=f"http://127.0.0.1:{port}", data_dir=home / "data", log=log)
    try:
        wait_until_serving(server.url, process, seconds=180, what_went_wrong=lambda: log.read_text()[-3000:])
        _after_first_sensor_tick(server, deadline=time.monotonic() + 180)
        for name in SENSORS:
            server.set_sensor(name, running=False)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _after_first_sensor_tick(server: DevServer, *, deadline: float) -> None:
    """Wait until the connection sensor has ticked once: the connections are partitions and in the warehouse."""
    while True:
        sensor = next(s for s in server.repository()["sensors"] if s["name"] == "rutter_connections")
        if any(t["status"] in ("SUCCESS", "SKIPPED") for t in sensor["sensorState"]["ticks"]):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the connection sensor never ticked:\n{server.log.read_text()[-3000:]}")
        time.sleep(1)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's chromium, headless, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install the chromium package (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, dev_server: DevServer) -> Iterator:
    """A fresh tab with the size the screenshots are taken at."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def shot(page, name: str) -> None:
    """Save a screenshot of the current page (under docs/screenshots with UPDATE_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
