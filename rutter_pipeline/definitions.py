"""The Dagster code location of rutter-pipeline (`dagster dev -m rutter_pipeline.definitions`)."""

from __future__ import annotations

from rutter_pipeline.defs import build_definitions
from rutter_pipeline.settings import process_settings

defs = build_definitions(process_settings())
