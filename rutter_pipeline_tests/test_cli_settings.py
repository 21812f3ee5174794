"""Settings: every variable validated with a message naming it; secrets never shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rutter_pipeline.settings import Settings, SettingsError, dbt_vars

TODAY = date(2026, 3, 15)


def settings(**env: str) -> Settings:
    return Settings.from_env(env, today=TODAY)


def real(**env: str) -> Settings:
    """Settings with Rutter credentials, as a user with a real warehouse has them."""
    return settings(RUTTER_CLIENT_ID="org-id", RUTTER_CLIENT_SECRET="org-secret", **env)


def test_defaults_use_the_sandbox_and_embedded_database() -> None:
    s = settings()
    assert s.uses_sandbox and s.client_id is None and s.client_secret is None
    assert s.base_url == "https://production.rutterapi.com/versioned"
    assert s.api_version == "2024-08-31"
    assert s.warehouse_url is None and s.dagster_storage_url is None
    assert s.history_start == date(2024, 3, 1)  # 24 months back, whole months
    assert s.incremental_cron == "0 * * * *"
    assert s.dagster_home == Path(".dagster_home").absolute()
    assert s.rate_limit == (500, 10.0) and s.max_concurrent_runs == 4
    assert s.refresh_marts and not settings(RUTTER_REFRESH_MARTS="no").refresh_marts


def test_credentials_switch_to_real_rutter_and_stay_out_of_repr() -> None:
    s = settings(
        RUTTER_CLIENT_ID="org-id",
        RUTTER_CLIENT_SECRET="very-secret-value",
        WAREHOUSE_URL="postgresql+psycopg2://u:db-password@db.example:5432/warehouse",
        RUTTER_DAGSTER_STORAGE_URL="postgresql://u:other-password@db.example/dagster",
    )
    assert not s.uses_sandbox and s.client_secret == "very-secret-value"
    shown = repr(s)
    assert "org-id" in shown
    for secret in ("very-secret-value", "db-password", "other-password"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RUTTER_CLIENT_ID": "only-id"}, "RUTTER_CLIENT_SECRET"),
        ({"RUTTER_CLIENT_SECRET": "only-secret"}, "RUTTER_CLIENT_ID"),
        ({"RUTTER_BASE_URL": "ftp://example.com"}, "RUTTER_BASE_URL"),
        ({"RUTTER_API_VERSION": "latest"}, "RUTTER_API_VERSION"),
        ({"WAREHOUSE_URL": "sqlite:///x.db"}, "WAREHOUSE_URL"),
        ({"WAREHOUSE_URL": "not a url"}, "WAREHOUSE_URL"),
        ({"WAREHOUSE_URL": "postgresql://host"}, "WAREHOUSE_URL"),
        ({"WAREHOUSE_URL": "postgresql://host:port/db"}, "WAREHOUSE_URL"),
        ({"RUTTER_SANDBOX": "maybe"}, "RUTTER_SANDBOX"),
        ({"RUTTER_DAGSTER_STORAGE_URL": "mysql+pymysql://root@h/d"}, "RUTTER_DAGSTER_STORAGE_URL"),
        ({"RUTTER_HISTORY_START": "2024-13"}, "RUTTER_HISTORY_START"),
        ({"RUTTER_HISTORY_START": "March 2024"}, "RUTTER_HISTORY_START"),
        ({"RUTTER_HISTORY_START": "2030-01"}, "RUTTER_HISTORY_START"),
        ({"RUTTER_INCREMENTAL_CRON": "every hour"}, "RUTTER_INCREMENTAL_CRON"),
        ({"RUTTER_INCREMENTAL_CRON": "61 * * * *"}, "RUTTER_INCREMENTAL_CRON"),
        ({"RUTTER_INCREMENTAL_CRON": "*/0 * * * *"}, "RUTTER_INCREMENTAL_CRON"),
        ({"RUTTER_INCREMENTAL_CRON": "0 5-1 * * *"}, "RUTTER_INCREMENTAL_CRON"),
        ({"RUTTER_MAX_CONCURRENT_RUNS": "0"}, "RUTTER_MAX_CONCURRENT_RUNS"),
        ({"RUTTER_MAX_CONCURRENT_RUNS": "many"}, "RUTTER_MAX_CONCURRENT_RUNS"),
        ({"RUTTER_RATE_LIMIT": "500 per 10s"}, "RUTTER_RATE_LIMIT"),
        ({"RUTTER_RATE_LIMIT": "0/10"}, "RUTTER_RATE_LIMIT"),
        ({"RUTTER_FRESHNESS_HOURS": "-3"}, "RUTTER_FRESHNESS_HOURS"),
        ({"RUTTER_REFRESH_MARTS": "sometimes"}, "RUTTER_REFRESH_MARTS"),
        ({"RUTTER_REPORTING_CURRENCY": "dollars"}, "RUTTER_REPORTING_CURRENCY"),
    ],
)
def test_malformed_variables_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        settings(**env)


def test_secret_is_not_echoed_in_errors() -> None:
    with pytest.raises(SettingsError) as caught:
        settings(WAREHOUSE_URL="sqlite://user:hunter2@/x")
    assert "hunter2" not in str(caught.value)


def test_valid_values_are_normalised() -> None:
    s = settings(
        RUTTER_HISTORY_START="2025-02-17",
        RUTTER_INCREMENTAL_CRON="  */15  1-5 * jan-mar mon,fri ",
        RUTTER_RATE_LIMIT="50/2.5",
        RUTTER_BASE_URL="http://127.0.0.1:8765/versioned/",
        WAREHOUSE_URL="mysql+pymysql://root@127.0.0.1:3306/warehouse?charset=utf8mb4",
        RUTTER_SANDBOX="1",
        RUTTER_REPORTING_CURRENCY=" eur ",
    )
    assert s.reporting_currency == "EUR"
    assert settings().reporting_currency == "USD"
    assert s.history_start == date(2025, 2, 1)
    assert s.incremental_cron == "*/15 1-5 * jan-mar mon,fri"
    assert s.rate_limit == (50, 2.5)
    assert s.base_url == "http://127.0.0.1:8765/versioned"
    assert s.warehouse_url.startswith("mysql+pymysql://")


def test_the_marts_are_built_on_postgresql_and_skipped_on_mysql() -> None:
    assert real(WAREHOUSE_URL="postgresql+psycopg2://etl@db:5432/wh").refresh_marts
    mysql = real(WAREHOUSE_URL="mysql+pymysql://etl@db:3306/wh")
    assert not mysql.refresh_marts and not mysql.has_marts
    with pytest.raises(SettingsError, match=r"RUTTER_REFRESH_MARTS.*PostgreSQL"):
        real(WAREHOUSE_URL="mysql+pymysql://etl@db:3306/wh", RUTTER_REFRESH_MARTS="1")


@pytest.mark.parametrize(
    ("given", "warehouse", "storage"),
    [
        (
            "postgresql://etl:pw@db:5432/wh",
            "postgresql+psycopg://etl:pw@db:5432/wh",
            "postgresql+psycopg2://etl:pw@db:5432/wh",
        ),
        ("postgres://etl:pw@db/wh", "postgresql+psycopg://etl:pw@db/wh", "postgresql+psycopg2://etl:pw@db/wh"),
        ("postgresql+psycopg://etl@db/wh", "postgresql+psycopg://etl@db/wh", "postgresql+psycopg2://etl@db/wh"),
        ("postgresql+psycopg2://etl@db/wh", "postgresql+psycopg://etl@db/wh", "postgresql+psycopg2://etl@db/wh"),
        ("mysql://etl@db:3306/wh", "mysql+pymysql://etl@db:3306/wh?charset=utf8mb4", None),
        ("mysql+pymysql://etl@db/wh?charset=utf8mb4", "mysql+pymysql://etl@db/wh?charset=utf8mb4", None),
        ("mariadb://etl@db/wh", "mysql+pymysql://etl@db/wh?charset=utf8mb4", None),
    ],
)
def test_every_common_url_form_names_the_driver_used(given: str, warehouse: str, storage: str | None) -> None:
    assert real(WAREHOUSE_URL=given).warehouse_url == warehouse
    if storage is None:
        with pytest.raises(SettingsError, match="RUTTER_DAGSTER_STORAGE_URL"):
            real(RUTTER_DAGSTER_STORAGE_URL=given)
    else:
        assert real(RUTTER_DAGSTER_STORAGE_URL=given).dagster_storage_url == storage


def test_the_sandbox_is_chosen_or_the_zero_configuration_demo() -> None:
    assert settings().uses_sandbox and "zero-configuration" in settings().sandbox_reason
    assert not real(WAREHOUSE_URL="postgresql://db/wh").uses_sandbox
    chosen = Settings.from_env({"WAREHOUSE_URL": "postgresql://db/wh"}, today=TODAY, sandbox=True)
    assert chosen.uses_sandbox and chosen.rutter_source == "sandbox"
    assert settings(WAREHOUSE_URL="postgresql://db/wh", RUTTER_SANDBOX="1").uses_sandbox
    with pytest.raises(SettingsError, match=r"RUTTER_CLIENT_ID and RUTTER_CLIENT_SECRET.*WAREHOUSE_URL.*--sandbox"):
        settings(WAREHOUSE_URL="postgresql://db/wh")


def test_the_reporting_currency_is_passed_to_dbt_as_a_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUTTER_REPORTING_CURRENCY", "eur")
    assert dbt_vars() == {"reporting_currency": "EUR"}
    monkeypatch.delenv("RUTTER_REPORTING_CURRENCY")
    assert dbt_vars() == {"reporting_currency": "USD"}
    monkeypatch.setenv("RUTTER_REPORTING_CURRENCY", "euros")
    with pytest.raises(SettingsError, match="RUTTER_REPORTING_CURRENCY"):
        dbt_vars()
