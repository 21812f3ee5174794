"""The Celery application rutter-pipeline's workers run: `celery -A rutter_pipeline.app.celery_worker worker`.

A worker pulls the steps of backfill and incremental runs from the broker in RUTTER_CELERY_BROKER_URL and runs
them with the same environment as every other rutter-pipeline process (WAREHOUSE_URL, the Rutter credentials,
RUTTER_DAGSTER_STORAGE_URL for the instance and the shared rate limiter). It is dagster-celery's worker
application, reading the broker from the settings instead of a YAML file.
"""

from __future__ import annotations

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from rutter_pipeline.defs.executors import CELERY_CONFIG
from rutter_pipeline.settings import CELERY_EXECUTOR, SettingsError, process_settings

_settings = process_settings()
if _settings.executor != CELERY_EXECUTOR:
    raise SettingsError("a Celery worker needs RUTTER_EXECUTOR=celery and RUTTER_CELERY_BROKER_URL")

app = make_app({"broker": _settings.celery_broker_url, "backend": "rpc://"})
app.conf.update(CELERY_CONFIG)

#: The task the runs submit each step as (dagster-celery's `execute_plan`).
execute_plan = create_task(app)
