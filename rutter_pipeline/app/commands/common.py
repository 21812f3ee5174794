"""What the `rutter-pipeline` commands share: exit codes, argument types, the warehouse and its errors."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from rutter_pipeline.settings import Settings

if TYPE_CHECKING:  # imported lazily at run time, to keep `--help` fast
    import sqlalchemy as sa

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

#: The help of every command's `--sandbox` that chooses the built-in sandbox instead of Rutter.
SANDBOX_HELP = "use the built-in sandbox instead of Rutter (also RUTTER_SANDBOX=1)"


def month(text: str) -> str:
    """An argument that is a month, `YYYY-MM`."""
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit() or not 1 <= int(text[5:]) <= 12:
        raise argparse.ArgumentTypeError(f"a month is YYYY-MM, e.g. 2025-03, got {text!r}")
    return text


def port(text: str) -> int:
    """An argument that is a TCP port, 1 to 65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port must be a number from 1 to 65535, got {text!r}")
    return int(text)


def non_negative(text: str) -> int:
    """An argument that is a whole number >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def open_warehouse(settings: Settings) -> sa.Engine:
    """Open the warehouse and bring its schema up to date; a refused connection is one line naming WAREHOUSE_URL.

    Raises:
        UnreachableDatabase: the warehouse (WAREHOUSE_URL, or the embedded PostgreSQL) cannot be connected to.
    """
    import sqlalchemy as sa

    from rutter_pipeline.app.runtime import UnreachableDatabase, unreachable_message
    from rutter_pipeline.warehouse import schema, warehouse_engine

    engine = warehouse_engine(settings.warehouse_url, data_dir=settings.data_dir)
    try:
        schema.upgrade(engine)
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        variable = "WAREHOUSE_URL" if settings.warehouse_url else "the embedded PostgreSQL (RUTTER_PIPELINE_DATA_DIR)"
        raise UnreachableDatabase(
            unreachable_message(variable, engine.url.render_as_string(hide_password=False), exc)
        ) from None
    return engine


def lost_connection(exc: BaseException) -> str:
    """One line for a database connection lost mid-sync: what happened, and that a rerun resumes."""
    cause = getattr(exc, "orig", None) or exc.__cause__ or exc
    first = next((line.strip() for line in str(cause).splitlines() if line.strip()), type(cause).__name__)
    return (
        f"lost the database connection during the sync ({type(cause).__name__}: {first}); every batch "
        "committed before is kept: run `rutter-pipeline sync` again once the database is back, it resumes"
    )


def prepare_dbt(settings: Settings) -> None:
    """Parse the dbt project once, before this process or the ones it starts load the definitions.

    Only when the marts are in (a PostgreSQL warehouse); then the processes Dagster starts (code server, runs,
    the sync's workers) find the manifest as the models are now and never run dbt themselves.
    """
    # dagster-dbt narrates every dbt command at INFO (this parse, the marts' builds in the sync's runs): a run's
    # event log keeps it, the terminal needs less.
    logging.getLogger("dagster.builtin").setLevel(logging.WARNING)
    if not settings.has_marts:
        return
    from rutter_pipeline.defs.dbt import prepare_dbt_project

    print("Parsing the dbt project (dbt parse)...", flush=True)
    prepare_dbt_project()
