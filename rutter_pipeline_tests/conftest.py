"""Shared fixtures. Each fixture family lives in its own module under fixtures/."""

pytest_plugins = [
    "rutter_pipeline_tests.fixtures.databases",
    "rutter_pipeline_tests.fixtures.sandbox",
]
