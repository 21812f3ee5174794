"""Every environment variable rutter-pipeline reads, validated in one place.

This module is the only code that touches the environment: `process_settings()` reads it, `export()` writes
what Dagster's subprocesses and dbt read (the process boundary). Everything else receives a `Settings` (or,
inside Dagster, resources configured with `dg.EnvVar`). A missing or malformed variable raises
`SettingsError` whose message names the variable and says what is expected, without echoing secrets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import overload

import sqlalchemy as sa

from rutter_pipeline.rutter.config import DEFAULT_API_VERSION, PRODUCTION_URL, check_api_version, check_base_url
from rutter_pipeline.rutter.errors import ClientConfigError

DEFAULT_CRON = "0 * * * *"
SANDBOX_VARIABLE = "RUTTER_SANDBOX"

#: The URL schemes people paste, and the SQLAlchemy driver each is read with. PostgreSQL warehouses use
#: psycopg 3 (its COPY API loads the batches); Dagster's storage uses psycopg2, which dagster-postgres needs.
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")
_MYSQL_SCHEMES = ("mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql")
WAREHOUSE_DRIVER = "postgresql+psycopg"
DAGSTER_STORAGE_DRIVER = "postgresql+psycopg2"
MYSQL_DRIVER = "mysql+pymysql"
DEFAULT_HISTORY_MONTHS = 24
LOCAL_EXECUTOR = "local"
CELERY_EXECUTOR = "celery"
#: Broker URL schemes Celery reads (RabbitMQ; Redis works too).
_BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss")

_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_CRON_NAMES = {
    3: {
        m: i + 1
        for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
    },
    4: {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}
_CRON_ITEM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(\d+))?$")


class SettingsError(ValueError):
    """An environment variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one rutter-pipeline process.

    Attributes:
        sandbox: whether the built-in sandbox stands in for Rutter: chosen with `--sandbox` or RUTTER_SANDBOX=1,
            or the zero-configuration demo (neither Rutter credentials nor WAREHOUSE_URL set).
        sandbox_reason: why the sandbox is used, for the first line of output ("" when it is not).
        client_id: RUTTER_CLIENT_ID, or None when the built-in sandbox stands in for Rutter.
        client_secret: RUTTER_CLIENT_SECRET (never shown in repr).
        base_url: RUTTER_BASE_URL, e.g. https://production.rutterapi.com/versioned.
        api_version: RUTTER_API_VERSION (`X-Rutter-Version`).
        warehouse_url: WAREHOUSE_URL with its driver named (`postgresql+psycopg://`, `mysql+pymysql://`), or
            None for the embedded PostgreSQL.
        history_start: first day of the first monthly partition (RUTTER_HISTORY_START).
        incremental_cron: RUTTER_INCREMENTAL_CRON, when incremental pulls run.
        dagster_home: DAGSTER_HOME, where the Dagster instance keeps its configuration.
        data_dir: RUTTER_PIPELINE_DATA_DIR, where the embedded PostgreSQL keeps its files.
        dagster_storage_url: RUTTER_DAGSTER_STORAGE_URL (`postgresql+psycopg2://`), PostgreSQL for Dagster's
            run/event storage and the shared rate limiter, or None for the instance's own embedded PostgreSQL
            under DAGSTER_HOME.
        max_concurrent_runs: RUTTER_MAX_CONCURRENT_RUNS, the global cap on simultaneous Dagster runs.
        rate_limit: RUTTER_RATE_LIMIT as (requests, per seconds), the organisation's Rutter budget.
        freshness_hours: RUTTER_FRESHNESS_HOURS, how old a watermark may get before its check warns.
        refresh_marts: RUTTER_REFRESH_MARTS, whether `rutter-pipeline sync` rebuilds the dbt marts at the end
            (default: yes on PostgreSQL; the marts are not built on MySQL).
        executor: RUTTER_EXECUTOR, where the steps of backfill and incremental runs execute: `local` (in the
            run's own process) or `celery` (on Celery workers pulling from RUTTER_CELERY_BROKER_URL).
        celery_broker_url: RUTTER_CELERY_BROKER_URL, the Celery broker (`amqp://user:password@host:5672/vhost`),
            set exactly when the executor is `celery`.
        reporting_currency: RUTTER_REPORTING_CURRENCY (default USD), the one currency the marts total
            connections in.
    """

    client_id: str | None
    client_secret: str | None = field(repr=False)
    base_url: str
    api_version: str
    warehouse_url: str | None = field(repr=False)
    history_start: date
    incremental_cron: str
    dagster_home: Path
    data_dir: Path
    dagster_storage_url: str | None = field(repr=False)
    max_concurrent_runs: int
    rate_limit: tuple[int, float]
    freshness_hours: int
    refresh_marts: bool = True
    reporting_currency: str = "USD"
    sandbox: bool = False
    sandbox_reason: str = ""
    executor: str = LOCAL_EXECUTOR
    celery_broker_url: str | None = field(default=None, repr=False)

    @property
    def uses_sandbox(self) -> bool:
        """True when the built-in sandbox stands in for Rutter."""
        return self.sandbox

    @property
    def rutter_source(self) -> str:
        """Where connections come from, as recorded in `rutter._connections.source`: `sandbox` or the API URL."""
        return "sandbox" if self.sandbox else self.base_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, today: date | None = None, sandbox: bool = False) -> Settings:
        """Read and validate every variable.

        Args:
            environ: the environment, usually `os.environ`.
            today: the current UTC date (for tests); decides the default history start.
            sandbox: the built-in sandbox was chosen on the command line (`--sandbox`).

        Raises:
            SettingsError: naming the first variable that is malformed, and what is expected.
        """
        env = {k: v.strip() for k, v in environ.items() if v is not None and v.strip()}
        client_id, client_secret = _credentials(env)
        warehouse_url = database_url(env.get("WAREHOUSE_URL"), name="WAREHOUSE_URL")
        reason = _sandbox_reason(env, chosen=sandbox, has_credentials=client_id is not None)
        executor, broker = _executor(env)
        return cls(
            sandbox=bool(reason),
            sandbox_reason=reason,
            client_id=client_id,
            client_secret=client_secret,
            base_url=_client_setting(check_base_url, env.get("RUTTER_BASE_URL", PRODUCTION_URL), "RUTTER_BASE_URL"),
            api_version=_client_setting(
                check_api_version, env.get("RUTTER_API_VERSION", DEFAULT_API_VERSION), "RUTTER_API_VERSION"
            ),
            warehouse_url=warehouse_url,
            history_start=_history_start(env, today or datetime.now(UTC).date()),
            incremental_cron=_cron(env),
            dagster_home=Path(env.get("DAGSTER_HOME", ".dagster_home")).absolute(),
            data_dir=Path(env.get("RUTTER_PIPELINE_DATA_DIR", ".rutter_pipeline")).absolute(),
            dagster_storage_url=database_url(
                env.get("RUTTER_DAGSTER_STORAGE_URL"),
                name="RUTTER_DAGSTER_STORAGE_URL",
                postgres_driver=DAGSTER_STORAGE_DRIVER,
                mysql=False,
            ),
            max_concurrent_runs=_positive_int(env, "RUTTER_MAX_CONCURRENT_RUNS", 4),
            rate_limit=_rate_limit(env),
            freshness_hours=_positive_int(env, "RUTTER_FRESHNESS_HOURS", 6),
            refresh_marts=_refresh_marts(env, warehouse_url),
            executor=executor,
            celery_broker_url=broker,
            reporting_currency=_reporting_currency(env),
        )

    @property
    def has_marts(self) -> bool:
        """Whether the dbt marts can be built: they are written for PostgreSQL (the embedded one or yours)."""
        return _on_postgres(self.warehouse_url)


def _credentials(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    client_id, secret = env.get("RUTTER_CLIENT_ID"), env.get("RUTTER_CLIENT_SECRET")
    if client_id and not secret:
        raise SettingsError(
            "RUTTER_CLIENT_SECRET is not set but RUTTER_CLIENT_ID is: set both, or neither to use the built-in sandbox"
        )
    if secret and not client_id:
        raise SettingsError(
            "RUTTER_CLIENT_ID is not set but RUTTER_CLIENT_SECRET is: set both, or neither to use the built-in sandbox"
        )
    if client_id and ":" in client_id:
        # HTTP Basic auth joins id and secret with ':'; an id containing one cannot be sent unambiguously.
        raise SettingsError("RUTTER_CLIENT_ID must not contain ':'")
    return client_id, secret


def _client_setting(check: Callable[..., str], value: str, name: str) -> str:
    """Validate a variable the client also reads with the client's own check, so both agree."""
    try:
        return check(value, source=name)
    except ClientConfigError as exc:
        raise SettingsError(str(exc)) from None


def _sandbox_reason(env: Mapping[str, str], *, chosen: bool, has_credentials: bool) -> str:
    """Why the built-in sandbox stands in for Rutter, or "" when real Rutter is used."""
    if chosen:
        return "chosen with --sandbox"
    if _flag(env, SANDBOX_VARIABLE, default=False):
        return f"chosen with {SANDBOX_VARIABLE}=1"
    if has_credentials:
        return ""
    if "WAREHOUSE_URL" in env:
        # A forgotten variable must not load invented companies into a real warehouse.
        raise SettingsError(
            "RUTTER_CLIENT_ID and RUTTER_CLIENT_SECRET are not set but WAREHOUSE_URL is: set your Rutter "
            f"credentials, or choose the built-in sandbox with --sandbox or {SANDBOX_VARIABLE}=1"
        )
    return "no Rutter credentials and no WAREHOUSE_URL: the zero-configuration demo"


@overload
def database_url(value: str, *, name: str, postgres_driver: str = ..., mysql: bool = ...) -> str: ...
@overload
def database_url(value: None, *, name: str, postgres_driver: str = ..., mysql: bool = ...) -> None: ...
@overload
def database_url(value: str | None, *, name: str, postgres_driver: str = ..., mysql: bool = ...) -> str | None: ...


def database_url(
    value: str | None, *, name: str, postgres_driver: str = WAREHOUSE_DRIVER, mysql: bool = True
) -> str | None:
    """A database URL in any common form, with the driver rutter-pipeline uses named explicitly.

    `postgresql://`, `postgres://`, `postgresql+psycopg://` and `postgresql+psycopg2://` become
    `postgres_driver`; `mysql://`, `mysql+pymysql://` and `mariadb://` become `mysql+pymysql://` with
    `charset=utf8mb4` unless another charset is given. This is the only place URLs are rewritten.

    Args:
        value: the URL as the user wrote it, or None.
        name: the variable it came from, named in errors.
        postgres_driver: `postgresql+psycopg` (the warehouse) or `postgresql+psycopg2` (Dagster's storage).
        mysql: whether MySQL/MariaDB is accepted.

    Raises:
        SettingsError: not a URL, an unknown scheme, or no database named; the password is never shown.
    """
    if value is None:
        return None
    expected = "postgresql://user:password@host:5432/database" + (
        " or mysql://user:password@host:3306/database" if mysql else ""
    )
    scheme, separator, rest = value.partition("://")
    scheme = scheme.lower()
    if not separator or not scheme:
        raise SettingsError(f"{name} is not a database URL: expected {expected}")
    if scheme in _POSTGRES_SCHEMES:
        driver = postgres_driver
    elif mysql and scheme in _MYSQL_SCHEMES:
        driver = MYSQL_DRIVER
    else:
        raise SettingsError(f"{name} has the scheme {scheme}://, which is not supported: expected {expected}")
    try:
        url = sa.make_url(f"{driver}://{rest}")
        url.port  # noqa: B018 - a port that is not a number raises here
    except Exception:  # noqa: BLE001 - the message must not echo the URL, which may carry a password
        raise SettingsError(f"{name} is not a valid database URL: expected {expected}") from None
    if not url.database:
        raise SettingsError(
            f"{name} names no database: expected {expected}, got {url.render_as_string(hide_password=True)!r}"
        )
    if driver == MYSQL_DRIVER and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """A database URL fit for a message: the password replaced by ***."""
    return sa.make_url(url).render_as_string(hide_password=True)


def _history_start(env: Mapping[str, str], today: date) -> date:
    value = env.get("RUTTER_HISTORY_START")
    if value is None:
        months = today.year * 12 + today.month - 1 - DEFAULT_HISTORY_MONTHS
        return date(months // 12, months % 12 + 1, 1)
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", value)
    try:
        if match is None:
            raise ValueError(value)
        start = date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        raise SettingsError(f"RUTTER_HISTORY_START must be YYYY-MM or YYYY-MM-DD, got {value!r}") from None
    if start > today:
        raise SettingsError(f"RUTTER_HISTORY_START must not be in the future, got {value!r}")
    # Partitions are calendar months: a day inside a month starts history at that month.
    return start.replace(day=1)


def _cron(env: Mapping[str, str]) -> str:
    value = " ".join(env.get("RUTTER_INCREMENTAL_CRON", DEFAULT_CRON).split())
    parts = value.split(" ")
    if len(parts) != 5 or not all(_valid_cron_field(part, index) for index, part in enumerate(parts)):
        raise SettingsError(
            f"RUTTER_INCREMENTAL_CRON must be a 5-field cron expression (minute hour day-of-month month "
            f"day-of-week) such as {DEFAULT_CRON!r}, got {value!r}"
        )
    return value


def _valid_cron_field(part: str, index: int) -> bool:
    _, low, high = _CRON_FIELDS[index]
    names = _CRON_NAMES.get(index, {})
    for item in part.lower().split(","):
        match = _CRON_ITEM.match(item)
        if match is None or match[2] == "0":
            return False
        if match[1] == "*":
            continue
        bounds = [names.get(token, int(token) if token.isdigit() else -1) for token in match[1].split("-")]
        if any(not low <= bound <= high for bound in bounds) or bounds != sorted(bounds):
            return False
    return True


def _reporting_currency(env: Mapping[str, str]) -> str:
    value = env.get("RUTTER_REPORTING_CURRENCY", "USD").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise SettingsError(
            f"RUTTER_REPORTING_CURRENCY must be an ISO 4217 currency code of three letters, such as USD; got {value!r}"
        )
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _on_postgres(warehouse_url: str | None) -> bool:
    # Unset means the embedded PostgreSQL.
    return warehouse_url is None or warehouse_url.startswith("postgresql")


def _refresh_marts(env: Mapping[str, str], warehouse_url: str | None) -> bool:
    wanted = _flag(env, "RUTTER_REFRESH_MARTS", default=_on_postgres(warehouse_url))
    if wanted and not _on_postgres(warehouse_url):
        raise SettingsError(
            "RUTTER_REFRESH_MARTS is set but the dbt marts need a PostgreSQL WAREHOUSE_URL; "
            "with MySQL the raw tables are loaded and the marts are skipped (leave it unset)"
        )
    return wanted


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = env.get(name)
    if value is None:
        return default
    if value.lower() not in ("1", "true", "yes", "0", "false", "no"):
        raise SettingsError(f"{name} must be 1/true/yes or 0/false/no, got {value!r}")
    return value.lower() in ("1", "true", "yes")


def _rate_limit(env: Mapping[str, str]) -> tuple[int, float]:
    value = env.get("RUTTER_RATE_LIMIT", "500/10")
    match = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)", value)
    if match is None or int(match[1]) < 1 or float(match[2]) <= 0:
        raise SettingsError(f"RUTTER_RATE_LIMIT must be '<requests>/<seconds>' such as '500/10', got {value!r}")
    return int(match[1]), float(match[2])


def _executor(env: Mapping[str, str]) -> tuple[str, str | None]:
    name = env.get("RUTTER_EXECUTOR", LOCAL_EXECUTOR).lower()
    broker = env.get("RUTTER_CELERY_BROKER_URL")
    if name not in (LOCAL_EXECUTOR, CELERY_EXECUTOR):
        raise SettingsError(f"RUTTER_EXECUTOR must be 'local' or 'celery', got {name!r}")
    if name == LOCAL_EXECUTOR:
        if broker is not None:
            raise SettingsError(
                "RUTTER_CELERY_BROKER_URL is set but RUTTER_EXECUTOR is not 'celery': set RUTTER_EXECUTOR=celery to "
                "run steps on Celery workers, or unset RUTTER_CELERY_BROKER_URL"
            )
        return name, None
    example = "amqp://user:password@host:5672/vhost"
    if broker is None:
        raise SettingsError(f"RUTTER_EXECUTOR=celery needs RUTTER_CELERY_BROKER_URL, the broker, e.g. {example}")
    scheme = broker.partition("://")[0].lower()
    if "://" not in broker or scheme not in _BROKER_SCHEMES:
        # Never echo the value: it usually carries the broker's password.
        raise SettingsError(
            f"RUTTER_CELERY_BROKER_URL must be a broker URL such as {example} (schemes: {', '.join(_BROKER_SCHEMES)})"
        )
    return name, broker


def process_settings(*, sandbox: bool = False) -> Settings:
    """The settings of this process, read from its environment.

    Args:
        sandbox: the built-in sandbox was chosen on the command line (`--sandbox`).

    Raises:
        SettingsError: naming the first variable that is malformed.
    """
    return Settings.from_env(os.environ, sandbox=sandbox)


def export(variables: Mapping[str, str | None]) -> dict[str, str | None]:
    """Set (or, for None, remove) environment variables of this process, which the processes it starts inherit.

    This is how `dagster.yaml`, the resources' `dg.EnvVar`s, Dagster's run and code-server processes and dbt's
    `profiles.yml` receive the prepared values.

    Returns:
        The previous values, so that `export(previous)` restores them.
    """
    previous = {name: os.environ.get(name) for name in variables}
    for name, value in variables.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return previous


def dbt_vars() -> dict[str, str]:
    """The dbt project's vars this process sets (`--vars`): the reporting currency of the marts.

    Raises:
        SettingsError: RUTTER_REPORTING_CURRENCY is malformed.
    """
    return {"reporting_currency": _reporting_currency({k: v for k, v in os.environ.items() if v.strip()})}


def dbt_variable(name: str, default: str = "") -> str:
    """A variable dbt reads as well (`RUTTER_DBT_SCHEMA`, `PGOPTIONS`), as this process sees it."""
    return os.environ.get(name) or default
