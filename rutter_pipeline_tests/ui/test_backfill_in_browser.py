"""The design's UI paths clicked in a real browser against `rutter-pipeline dev` on the demo.

Each test does what a user does: open an asset, Materialize, pick a connection and two months, launch the
backfill; then it checks with Dagster (GraphQL) that exactly those partitions ran and materialized, and with the
warehouse that their rows arrived.
"""

from __future__ import annotations

import contextlib
import time

import pytest
from playwright.sync_api import expect

from rutter_pipeline.defs.assets import asset_key
from rutter_pipeline.rutter.catalog import Family, endpoints_for
from rutter_pipeline_tests.ui.conftest import SENSORS, DevServer, months_back, shot

RUNS_OF_BACKFILL = """
query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { id status partitionNames }
  }
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status tags { key value } assetSelection { path } } }
  }
}
"""
LATEST_BACKFILL = "{ partitionBackfillsOrError(limit: 1) { ... on PartitionBackfills { results { id } } } }"
MATERIALIZED = """
query ($path: [String!]!, $partitions: [String!]) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset { assetMaterializations(partitions: $partitions) { partition runId } }
  }
}
"""
CONNECTIONS = "select id, platform from rutter._connections"


def _connection(dev_server: DevServer, platform: str) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the connection sensor records them on its first tick
        try:
            with dev_server.warehouse() as conn, conn.cursor() as cur:
                cur.execute(CONNECTIONS)
                found = {p: i for i, p in cur.fetchall()}
            if platform in found:
                return found[platform]
        except Exception:  # noqa: BLE001 - the schema appears with the first sensor tick
            pass
        time.sleep(2)
    raise AssertionError(f"no {platform} connection recorded")


def _open(page, dev_server: DevServer, path: str) -> None:
    page.goto(f"{dev_server.url}{path}")
    skip = page.get_by_role("button", name="Skip")  # Dagster's newsletter prompt on first visit
    with contextlib.suppress(Exception):  # shown once per browser profile
        skip.click(timeout=5_000)


def _choose_partitions(page, dev_server: DevServer, *, connection_id: str, months: list[str], name: str) -> str:
    """In the open launch dialog: pick the connection and the months, launch; returns the new backfill's id."""
    before = _latest_backfill(dev_server)
    dialog = page.locator(".bp5-dialog").last  # the launch dialog, on top of anything opened before
    dialog.get_by_text("Select a partition or create one").first.click()
    page.get_by_placeholder("Filter partitions").fill(connection_id)
    page.get_by_text(connection_id, exact=True).filter(visible=True).last.click()
    month_input = dialog.locator("input[placeholder^='ex:']")
    month_input.fill(", ".join(months))
    month_input.press("Enter")
    dialog.get_by_text("2 partitions").wait_for()
    shot(page, f"{name}-launch")
    dialog.get_by_role("button", name="Launch backfill").click()
    deadline = time.monotonic() + 60
    while (latest := _latest_backfill(dev_server)) == before:
        assert time.monotonic() < deadline, "no backfill was created"
        time.sleep(1)
    return latest


def _wait_for_backfill(dev_server: DevServer, backfill_id: str, *, runs: int, timeout: float = 600) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        data = dev_server.graphql(RUNS_OF_BACKFILL, id=backfill_id)
        found = data["runsOrError"]["results"]
        if len(found) == runs and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in found):
            return found
        assert time.monotonic() < deadline, f"backfill {backfill_id} not done: {data}"
        time.sleep(2)


def _latest_backfill(dev_server: DevServer) -> str | None:
    found = dev_server.graphql(LATEST_BACKFILL)["partitionBackfillsOrError"]["results"]
    return found[0]["id"] if found else None


@pytest.mark.parametrize(
    ("asset", "platform", "table"),
    [
        ("rutter/commerce/orders", "SHOPIFY", "orders"),
        ("rutter/accounting/invoices", "QUICKBOOKS", "accounting_invoices"),
    ],
)
def test_backfill_two_partitions_from_the_asset_page(page, dev_server: DevServer, asset, platform, table) -> None:
    connection_id = _connection(dev_server, platform)
    months = [months_back(2), months_back(0)]
    name = asset.rsplit("/", 1)[1]
    _open(page, dev_server, "/asset-groups")
    page.get_by_text(f"rutter_{asset.split('/')[1]}", exact=True).first.wait_for()
    if name == "orders":
        shot(page, "asset-graph")
    _open(page, dev_server, f"/assets/{asset}?view=partitions")
    page.get_by_role("button", name="Materialize").first.click()
    backfill_id = _choose_partitions(page, dev_server, connection_id=connection_id, months=months, name=name)

    runs = _wait_for_backfill(dev_server, backfill_id, runs=2)
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], runs
    ran = sorted(next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition") for r in runs)
    assert ran == sorted(f"{connection_id}|{m}" for m in months)  # those two, and no other partition
    materialized = dev_server.graphql(MATERIALIZED, path=asset.split("/"), partitions=ran)["assetOrError"]
    assert {m["runId"] for m in materialized["assetMaterializations"]} >= {r["runId"] for r in runs}
    with dev_server.warehouse() as conn, conn.cursor() as cur:
        cur.execute(f"select count(*) from rutter.{table} where connection_id = %s", (connection_id,))
        assert cur.fetchone()[0] > 0
    _open(page, dev_server, f"/assets/{asset}?view=partitions")
    page.get_by_text(months[0]).first.wait_for()
    shot(page, f"{name}-partitions")


def test_backfill_a_whole_job_from_its_partitions_page(page, dev_server: DevServer) -> None:
    connection_id = _connection(dev_server, "SHOPIFY")
    months = [months_back(1), months_back(0)]
    repository = dev_server.repository()
    location = repository["location"]["name"]
    _open(page, dev_server, f"/locations/{location}/jobs/commerce_backfill/partitions")
    page.get_by_text("Backfill history").wait_for()
    shot(page, "job-partitions")
    page.get_by_role("button", name="Materialize…").first.click()
    backfill_id = _choose_partitions(page, dev_server, connection_id=connection_id, months=months, name="job")

    runs = _wait_for_backfill(dev_server, backfill_id, runs=2)
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], runs
    ran = sorted(next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition") for r in runs)
    assert ran == sorted(f"{connection_id}|{m}" for m in months)  # those two, and no other partition
    for path in (asset_key(e).path for e in endpoints_for(Family.COMMERCE)):  # every asset of the job
        materialized = dev_server.graphql(MATERIALIZED, path=path, partitions=ran)["assetOrError"]
        assert {m["runId"] for m in materialized["assetMaterializations"]} >= {r["runId"] for r in runs}, path
    with dev_server.warehouse() as conn, conn.cursor() as cur:
        for table in ("orders", "customers", "products"):
            cur.execute(f"select count(*) from rutter.{table} where connection_id = %s", (connection_id,))
            assert cur.fetchone()[0] > 0, table
    _open(page, dev_server, f"/locations/{location}/jobs/commerce_backfill/partitions")
    page.get_by_text(backfill_id).first.wait_for()
    shot(page, "job-backfill-history")


SCHEDULE_RUNS = """
query ($name: String!) {
  runsOrError(filter: {tags: [{key: "dagster/schedule_name", value: $name}]}) {
    ... on Runs { results { runId status runConfigYaml tags { key value } } }
  }
}
"""


def test_automation_runs_and_a_schedule_tick_started_by_hand(page, dev_server: DevServer) -> None:
    """The sensors (stopped by the fixture) are started again; then one schedule tick is launched by hand."""
    for name in SENSORS:
        dev_server.set_sensor(name, running=True)
    _open(page, dev_server, "/automation")
    for name in ("commerce_incremental_sync_schedule", "accounting_incremental_sync_schedule", "rutter_connections"):
        page.get_by_text(name, exact=True).first.wait_for()
    expect(page.locator("[class*='Skeleton']")).to_have_count(0, timeout=60_000)  # the rows' states loaded
    shot(page, "automation")
    repository = dev_server.repository()
    states = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    states |= {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    assert states == dict.fromkeys(
        ("commerce_incremental_sync_schedule", "accounting_incremental_sync_schedule", *SENSORS), "RUNNING"
    )

    # The schedule's page: Preview tick result → Continue → Launch all & commit tick result.
    schedule = "commerce_incremental_sync_schedule"
    _open(page, dev_server, f"/locations/{repository['location']['name']}/schedules/{schedule}")
    page.get_by_role("button", name="Preview tick result").click()
    dialog = page.locator(".bp5-dialog")
    dialog.get_by_role("button", name="Continue").click()
    dialog.get_by_text("commerce_incremental_sync", exact=True).wait_for()
    shot(page, "schedule-tick")
    dialog.get_by_role("button", name="Launch all & commit tick result").click()
    shop = _connection(dev_server, "SHOPIFY")
    deadline = time.monotonic() + 300
    while True:
        runs = dev_server.graphql(SCHEDULE_RUNS, name=schedule)["runsOrError"]["results"]
        if runs and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
            break
        assert time.monotonic() < deadline, f"the schedule's runs did not finish: {runs}"
        time.sleep(2)
    [run] = runs  # one batch of up to 50 connections a run: the demo's one usable commerce connection
    assert run["status"] == "SUCCESS", run
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert (tags["rutter/connection_count"], tags["rutter/pull"]) == ("1", "incremental")
    assert shop in run["runConfigYaml"]  # the batch's connections are in the run's config
    _open(page, dev_server, f"/runs/{run['runId']}")
    page.get_by_text("commerce_incremental_sync").first.wait_for()
    shot(page, "schedule-run")
