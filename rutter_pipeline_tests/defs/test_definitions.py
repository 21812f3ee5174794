"""The definitions load, and their shape matches the committed snapshot (renames show up in review).

Regenerate the snapshot after an intended change with `UPDATE_SNAPSHOTS=1 pytest rutter_pipeline_tests/defs`.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import dagster as dg

from rutter_pipeline.defs import build_definitions
from rutter_pipeline.rutter.catalog import ENDPOINTS
from rutter_pipeline.settings import Settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def describe(defs: dg.Definitions) -> dict:
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "partitions": _partitions(partitions),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
        }
    return {
        "assets": assets,
        "checks": sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys),
        "jobs": {
            job.name: {"partitions": _partitions(job.partitions_def), "tags": dict(sorted(job.tags.items()))}
            for job in sorted(repo.get_all_jobs(), key=lambda j: j.name)
            if not job.name.startswith("__")
        },
        "schedules": {s.name: {"cron": s.cron_schedule, "job": s.job_name} for s in repo.schedule_defs},
        "sensors": {s.name: sorted(t.job_name for t in s.targets) for s in repo.sensor_defs},
    }


def _partitions(partitions: dg.PartitionsDefinition | None) -> object:
    if partitions is None:
        return None
    if isinstance(partitions, dg.MultiPartitionsDefinition):
        return {dim.name: _partitions(dim.partitions_def) for dim in partitions.partitions_defs}
    if isinstance(partitions, dg.DynamicPartitionsDefinition):
        return f"dynamic:{partitions.name}"
    if isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        return f"{partitions.cron_schedule} from {partitions.start.date()} fmt {partitions.fmt}"
    return type(partitions).__name__


def snapshot_defs() -> dg.Definitions:
    settings = Settings.from_env({"RUTTER_HISTORY_START": "2024-01"}, today=date(2026, 1, 15))
    return build_definitions(settings)


def test_definitions_module_loads(monkeypatch) -> None:
    monkeypatch.setenv("RUTTER_HISTORY_START", "2024-06")
    import importlib

    import rutter_pipeline.definitions as module

    defs = importlib.reload(module).defs
    assert isinstance(defs, dg.Definitions)
    defs.get_repository_def().load_all_definitions()


def test_one_asset_per_catalog_endpoint() -> None:
    shape = describe(snapshot_defs())
    rutter_keys = {key for key in shape["assets"] if key.startswith("rutter/")}
    assert rutter_keys == {f"rutter/{e.family.value}/{e.object_name}" for e in ENDPOINTS}
    assert shape["assets"]["rutter/accounting/invoices"]["group"] == "rutter_accounting"
    assert shape["assets"]["rutter/commerce/orders"]["kinds"] == ["postgres", "rutter"]


def test_each_familys_assets_and_jobs_list_only_its_connections() -> None:
    shape = describe(snapshot_defs())
    for key, asset in shape["assets"].items():
        if key.startswith("rutter/"):
            family = key.split("/")[1]
            assert asset["partitions"]["connection"] == f"dynamic:{family}_connections", key
    for family in ("commerce", "accounting"):
        assert shape["jobs"][f"{family}_incremental_sync"]["partitions"] == f"dynamic:{family}_connections"
        assert shape["jobs"][f"{family}_backfill"]["partitions"]["connection"] == f"dynamic:{family}_connections"


def test_definitions_match_snapshot() -> None:
    shape = describe(snapshot_defs())
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(shape, indent=2, sort_keys=True) + "\n")
    assert shape == json.loads(SNAPSHOT.read_text()), "definitions changed: review, then UPDATE_SNAPSHOTS=1"


def test_resources_keep_secrets_out_of_their_repr() -> None:
    from rutter_pipeline.defs.resources import RutterResource, WarehouseResource

    rutter = RutterResource(
        client_id="org",
        client_secret="client-secret-value",
        base_url="http://h/versioned",
        rate_limit_db_url="postgresql://u:limiter-password@h/d",
    )
    warehouse = WarehouseResource(url="postgresql://u:warehouse-password@h/d")
    shown = f"{rutter!r} {rutter} {warehouse!r} {warehouse}"
    assert "org" in shown
    for secret in ("client-secret-value", "limiter-password", "warehouse-password"):
        assert secret not in shown


def test_a_mysql_warehouse_gets_the_raw_assets_without_the_marts() -> None:
    settings = Settings.from_env(
        {"RUTTER_HISTORY_START": "2024-01", "WAREHOUSE_URL": "mysql+pymysql://etl@db/wh", "RUTTER_SANDBOX": "1"},
        today=date(2026, 1, 15),
    )
    shape = describe(build_definitions(settings))
    assert shape["assets"] and all(key.startswith("rutter/") for key in shape["assets"])
    assert "refresh_marts" not in shape["jobs"]
