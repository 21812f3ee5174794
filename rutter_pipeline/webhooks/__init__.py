"""Receive Rutter webhooks: record every event, apply commerce deletions, queue the rest for Dagster.

No Dagster here.
"""
