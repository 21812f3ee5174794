"""Shared fixtures. Each fixture family lives in its own module under fixtures/."""

import pytest

pytest_plugins = [
    "rutter_pipeline_tests.fixtures.databases",
    "rutter_pipeline_tests.fixtures.sandbox",
]


def pytest_configure(config: pytest.Config) -> None:
    """Prepare dbt's manifest once per test session, as a `rutter-pipeline` command does when it starts.

    The definitions only prepare a manifest that is missing; one left by an earlier checkout would describe
    models that no longer exist. The xdist workers share the controller's (they set `workerinput`).
    """
    if not hasattr(config, "workerinput"):
        from rutter_pipeline.defs.dbt import prepare_dbt_project

        prepare_dbt_project()
