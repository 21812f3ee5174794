"""Where the steps of backfill and incremental runs execute: in the run's own process, or on Celery workers.

`RUTTER_EXECUTOR=celery` sends every step to the Celery queue on `RUTTER_CELERY_BROKER_URL` (RabbitMQ), where any
number of workers on any machine pull them (`celery -A rutter_pipeline.app.celery_worker worker`, see
docs/scaling.md). The run itself still starts where Dagster launches it (the daemon's run worker, or a
Kubernetes job); it only submits the steps and waits for their results. The broker URL reaches the executor as
the variable's name (`env`), read where the run executes, so its password stays out of the definitions.
"""

from __future__ import annotations

import dagster as dg
from dagster_celery import celery_executor

from rutter_pipeline.settings import CELERY_EXECUTOR, Settings

#: Celery settings shared by the runs that submit steps and the workers that execute them (app/celery_worker.py).
CELERY_CONFIG = {
    # A step's message is acknowledged when the step ends, not when it starts: if a worker's machine dies, the
    # broker hands the step to another worker instead of losing it (a step's pull is idempotent: exactly-once
    # merges). A busy worker also takes no second step ahead of time, so idle workers get the next ones.
    "task_acks_late": True,
    "worker_prefetch_multiplier": 1,
}


def step_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor of the backfill and incremental jobs that `settings` choose (RUTTER_EXECUTOR)."""
    if settings.executor != CELERY_EXECUTOR:
        return dg.in_process_executor
    return celery_executor.configured(
        {"broker": {"env": "RUTTER_CELERY_BROKER_URL"}, "backend": "rpc://", "config_source": CELERY_CONFIG},
        name="celery",
    )
