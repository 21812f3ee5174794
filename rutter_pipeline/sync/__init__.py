"""The sync engine: backfill a window, pull increments, apply deletes. No Dagster here."""

from rutter_pipeline.sync.backfill import backfill
from rutter_pipeline.sync.deletes import apply_deletes
from rutter_pipeline.sync.incremental import incremental
from rutter_pipeline.sync.summary import SyncSummary
from rutter_pipeline.sync.watermarks import FreshnessPolicy

__all__ = ["FreshnessPolicy", "SyncSummary", "apply_deletes", "backfill", "incremental"]
