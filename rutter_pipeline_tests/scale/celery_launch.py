"""Launch backfill runs of the definitions in `rutter_pipeline.definitions` as Dagster would, in their own process.

Configured by the environment like any rutter-pipeline process (RUTTER_EXECUTOR=celery sends the steps to the
workers). Usage:
    python -m rutter_pipeline_tests.scale.celery_launch JOB CONNECTION_ID FIRST_MONTH LAST_MONTH
    python -m rutter_pipeline_tests.scale.celery_launch --retry RUN_ID
The first form is one run of the connection's months FIRST..LAST (a partition range, as the connection sensor
requests them). Prints `<run id> <status>`.
"""

from __future__ import annotations

import sys

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from rutter_pipeline.defs.partitions import connection_set, partition_key
from rutter_pipeline.rutter.catalog import Family

REPOSITORY = ReconstructableRepository.for_module("rutter_pipeline.definitions", "defs")


def main(argv: list[str]) -> None:
    with dg.DagsterInstance.get() as instance:
        if argv[0] == "--retry":
            failed = instance.get_run_by_id(argv[1])
            job = REPOSITORY.get_reconstructable_job(failed.job_name)
            options = dg.ReexecutionOptions.from_failure(argv[1], instance)
            # A retry is of the same partition and connection (as the UI's "re-execute from failure" keeps them).
            kept = (ASSET_PARTITION_RANGE_START_TAG, ASSET_PARTITION_RANGE_END_TAG, "rutter/connection")
            tags = {key: value for key, value in failed.tags.items() if key in kept}
            with dg.execute_job(job, instance, tags=tags, reexecution_options=options) as result:
                print(result.run_id, instance.get_run_by_id(result.run_id).status.value, flush=True)
            return
        job_name, connection_id, first, last = argv
        family = Family(job_name.split("_")[0])
        instance.add_dynamic_partitions(connection_set(family), [connection_id])
        job = REPOSITORY.get_reconstructable_job(job_name)
        tags = {
            ASSET_PARTITION_RANGE_START_TAG: str(partition_key(connection_id, first)),
            ASSET_PARTITION_RANGE_END_TAG: str(partition_key(connection_id, last)),
            "rutter/connection": connection_id,
        }
        with dg.execute_job(job, instance, tags=tags) as result:
            print(result.run_id, instance.get_run_by_id(result.run_id).status.value, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
