"""The application around the Dagster definitions: the `rutter-pipeline` command, the runtime it prepares
(sandbox, embedded PostgreSQL, exported variables), the headless sync, its terminal report and the chosen
backfill. `defs/` holds the definitions only and imports nothing from here."""
