"""RUTTER_EXECUTOR chooses where the steps of the same definitions' jobs execute; mistakes are named clearly."""

from __future__ import annotations

from datetime import date

import pytest
from dagster._serdes import serialize_value

from rutter_pipeline.defs import build_definitions
from rutter_pipeline.defs.incremental import incremental_job_name
from rutter_pipeline.defs.jobs import backfill_job_name
from rutter_pipeline.rutter.catalog import Family
from rutter_pipeline.settings import Settings, SettingsError

BROKER = "amqp://etl:broker-secret@rabbit.internal:5672/rutter"


def settings(**env: str) -> Settings:
    return Settings.from_env(env, today=date(2026, 3, 15))


def test_the_default_executes_steps_in_the_run_process() -> None:
    defs = build_definitions(settings())
    for family in Family:
        for name in (backfill_job_name(family), incremental_job_name(family)):
            assert defs.resolve_job_def(name).executor_def.name == "in_process"


def test_celery_is_chosen_by_configuration_and_its_broker_password_is_never_stored() -> None:
    chosen = settings(RUTTER_EXECUTOR="celery", RUTTER_CELERY_BROKER_URL=BROKER)
    assert chosen.executor == "celery" and chosen.celery_broker_url == BROKER
    assert "broker-secret" not in repr(chosen)
    defs = build_definitions(chosen)
    for family in Family:
        for name in (backfill_job_name(family), incremental_job_name(family)):
            job = defs.resolve_job_def(name)
            assert job.executor_def.name == "celery"
            # The job's snapshot, which Dagster stores with every run, never holds the broker's password.
            assert "broker-secret" not in serialize_value(job.get_job_snapshot())


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"RUTTER_EXECUTOR": "kubernetes"}, "RUTTER_EXECUTOR must be 'local' or 'celery', got 'kubernetes'"),
        ({"RUTTER_EXECUTOR": "celery"}, "RUTTER_EXECUTOR=celery needs RUTTER_CELERY_BROKER_URL"),
        ({"RUTTER_EXECUTOR": "celery", "RUTTER_CELERY_BROKER_URL": "http://x:pw@h/"}, "must be a broker URL"),
        ({"RUTTER_CELERY_BROKER_URL": BROKER}, "RUTTER_EXECUTOR is not 'celery'"),
    ],
)
def test_executor_mistakes_are_named_without_the_password(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says) as caught:
        settings(**env)
    assert "broker-secret" not in str(caught.value) and "pw@" not in str(caught.value)
