"""Receive Rutter webhooks: commerce deletions, which Rutter reports by webhook only. No Dagster here."""
