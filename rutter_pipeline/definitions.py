"""The Dagster code location of rutter-pipeline (`dagster dev -m rutter_pipeline.definitions`)."""

from __future__ import annotations

import os

from rutter_pipeline.defs import build_definitions
from rutter_pipeline.settings import Settings

defs = build_definitions(Settings.from_env(os.environ))
