"""The client the settings describe, and secrets kept out of reprs and messages."""

from __future__ import annotations

import pytest

from rutter_pipeline.app.runtime import rutter_client
from rutter_pipeline.rutter.auth import Credentials
from rutter_pipeline.rutter.client import RutterClient
from rutter_pipeline.rutter.config import PRODUCTION_URL
from rutter_pipeline.rutter.errors import ClientConfigError
from rutter_pipeline.settings import Settings, SettingsError

ENV = {"RUTTER_CLIENT_ID": "org-id", "RUTTER_CLIENT_SECRET": "top-secret-value"}


def test_the_settings_client_defaults_to_production_and_the_documented_version():
    client = rutter_client(Settings.from_env(ENV))
    assert (client.base_url, client.api_version, client.client_id) == (PRODUCTION_URL, "2024-08-31", "org-id")
    assert "top-secret-value" not in repr(client)


def test_the_settings_client_reads_every_variable_and_accepts_options():
    env = {**ENV, "RUTTER_BASE_URL": "http://127.0.0.1:8080/versioned/", "RUTTER_API_VERSION": "2023-03-14"}
    client = rutter_client(Settings.from_env(env), page_size=50)
    assert (client.base_url, client.api_version, client.page_size) == (
        "http://127.0.0.1:8080/versioned",
        "2023-03-14",
        50,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"RUTTER_CLIENT_SECRET": "top-secret-value"}, "RUTTER_CLIENT_ID"),
        ({"RUTTER_CLIENT_ID": "org-id", "RUTTER_CLIENT_SECRET": "  "}, "RUTTER_CLIENT_SECRET"),
        ({**ENV, "RUTTER_BASE_URL": "production.rutterapi.com"}, "RUTTER_BASE_URL"),
        ({**ENV, "RUTTER_API_VERSION": "latest"}, "RUTTER_API_VERSION"),
        ({**ENV, "RUTTER_CLIENT_ID": "org:id"}, "RUTTER_CLIENT_ID"),
    ],
)
def test_settings_name_the_bad_variable_without_echoing_the_secret(env, variable):
    with pytest.raises(SettingsError, match=variable) as caught:
        Settings.from_env(env)
    assert "top-secret-value" not in str(caught.value)


def test_credentials_hide_the_secret():
    credentials = Credentials("org-id", "top-secret-value")
    assert "top-secret-value" not in repr(credentials) and "top-secret-value" not in str(credentials)
    with pytest.raises(ClientConfigError, match="client_secret"):
        Credentials("org-id", "")


@pytest.mark.parametrize("bad", [{"page_size": 0}, {"base_url": "ftp://x"}, {"timeout_s": 0}])
def test_constructor_rejects_bad_settings(bad):
    settings = {"base_url": PRODUCTION_URL, "client_id": "org-id", "client_secret": "s", **bad}
    with pytest.raises(ClientConfigError):
        RutterClient(**settings)
