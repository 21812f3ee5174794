"""The Kubernetes deployment (deploy/helm): what can be checked without a cluster.

The values are parsed as the Dagster chart reads them; every secret reaches the pods from the one Secret whose
keys deploy/helm/secret.example.yaml lists, no secret value is written in the values, and the plain settings
they set are valid rutter-pipeline settings.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from rutter_pipeline.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
VALUES = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
SECRET = yaml.safe_load((DEPLOY / "helm" / "secret.example.yaml").read_text())
#: The settings that carry credentials: never a plain value in the chart's values.
SECRET_SETTINGS = {"RUTTER_CLIENT_ID", "RUTTER_CLIENT_SECRET", "WAREHOUSE_URL", "RUTTER_DAGSTER_STORAGE_URL"}


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def test_runs_are_kubernetes_jobs_on_your_postgresql_with_the_code_location_image() -> None:
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    assert VALUES["postgresql"]["enabled"] is False and VALUES["generatePostgresqlPasswordSecret"] is False
    assert VALUES["global"]["postgresqlSecretName"]
    (code,) = VALUES["dagster-user-deployments"]["deployments"]
    module = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())["tool"]["dagster"]["module_name"]
    assert code["dagsterApiGrpcArgs"] == ["--module-name", module]
    assert code["image"]["repository"] and code["image"]["tag"]
    limits = VALUES["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    assert {limit["key"] for limit in limits} == {"rutter/connection", "dagster/partition/connection"}


def test_every_secret_comes_from_the_secret_and_none_is_written_in_the_values() -> None:
    assert SECRET["kind"] == "Secret" and set(SECRET["stringData"]) == SECRET_SETTINGS
    assert not any(SECRET["stringData"].values()), "the example Secret must stay unfilled"
    references = [value for path, value in _walk(VALUES) if path.endswith("envSecrets")]
    assert len(references) == 4  # the code location, the run pods, the daemon, the webserver
    assert all(ref == [{"name": SECRET["metadata"]["name"]}] for ref in references), references
    for path, value in _walk(VALUES):
        assert not (isinstance(value, dict) and value.get("name") in SECRET_SETTINGS and "value" in value), path
        assert not (isinstance(value, str) and "@" in value and "://" in value), f"a URL with credentials at {path}"
        assert not path.endswith(("postgresqlPassword", "password")), f"a password at {path}"


def test_the_plain_settings_are_valid() -> None:
    (code,) = VALUES["dagster-user-deployments"]["deployments"]
    env = {item["name"]: item["value"] for item in code["env"]}
    filled = {"RUTTER_CLIENT_ID": "id", "RUTTER_CLIENT_SECRET": "secret", "WAREHOUSE_URL": "postgresql://u:p@h/w"}
    settings = Settings.from_env({**env, **filled})
    assert settings.executor == "local" and settings.rate_limit == (500, 10.0)
    queue = VALUES["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert settings.max_concurrent_runs == queue["maxConcurrentRuns"]
