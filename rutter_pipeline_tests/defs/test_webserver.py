"""The UI really serves the project: dagster-webserver answers GraphQL with the assets, partitions, sensor, schedule."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests

from rutter_pipeline.app.runtime import psycopg2_url, write_dagster_yaml
from rutter_pipeline.defs.partitions import connection_set
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline_tests.fixtures.processes import dagster_webserver

QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    partitionKeysByDimension { name partitionKeys }
  }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes { name schedules { name cronSchedule } sensors { name } jobs { name } }
    }
  }
}
"""


@pytest.fixture
def webserver(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    home = tmp_path / "dagster_home"
    write_dagster_yaml(home)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "RUTTER_DAGSTER_STORAGE_URL": psycopg2_url(postgres_url),
        "RUTTER_MAX_CONCURRENT_RUNS": "2",
        "RUTTER_HISTORY_START": "2025-01",
    }
    for key in ("DAGSTER_HOME", "RUTTER_DAGSTER_STORAGE_URL", "RUTTER_MAX_CONCURRENT_RUNS"):
        monkeypatch.setenv(key, env[key])
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(connection_set(Family.COMMERCE), ["shop-a", "unknown-c"])
        instance.add_dynamic_partitions(connection_set(Family.ACCOUNTING), ["books-b", "unknown-c"])
    with dagster_webserver(env) as url:
        yield url


def test_ui_serves_assets_partitions_sensor_and_schedule(webserver: str) -> None:
    answer = requests.post(f"{webserver}/graphql", json={"query": QUERY}, timeout=60).json()
    assert "errors" not in answer, answer
    nodes = {"/".join(n["assetKey"]["path"]): n for n in answer["data"]["assetNodes"]}
    invoices = nodes["rutter/accounting/invoices"]
    assert invoices["groupName"] == "rutter_accounting"
    dimensions = {d["name"]: d["partitionKeys"] for d in invoices["partitionKeysByDimension"]}
    # Each family's assets list only the connections that can fill them.
    assert dimensions["connection"] == ["books-b", "unknown-c"]
    assert dimensions["month"][0] == "2025-01"
    orders = {d["name"]: d["partitionKeys"] for d in nodes["rutter/commerce/orders"]["partitionKeysByDimension"]}
    assert orders["connection"] == ["shop-a", "unknown-c"]
    assert orders["month"] == dimensions["month"]

    repository = answer["data"]["repositoriesOrError"]["nodes"][0]
    assert {s["name"]: s["cronSchedule"] for s in repository["schedules"]} == {
        "commerce_incremental_sync_schedule": "0 * * * *",
        "accounting_incremental_sync_schedule": "0 * * * *",
    }
    assert {s["name"] for s in repository["sensors"]} == {
        "rutter_connections",
        "refresh_marts_sensor",
        "rutter_webhook_readiness",
        "rutter_webhook_changes",
    }
    assert {
        "commerce_backfill",
        "accounting_backfill",
        "commerce_incremental_sync",
        "accounting_incremental_sync",
        "rutter_checks",
    } <= {j["name"] for j in repository["jobs"]}
