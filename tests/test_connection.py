"""Live Smartcar or the sandbox: credentials, origins and redirect URIs."""

from __future__ import annotations

import logging
import os
import warnings

import pytest
import smartcar

from smartcar_tutorial import ConfigurationError, use_smartcar
from smartcar_tutorial.connection import check_local_redirect_uri
from smartcar_tutorial.credentials import CredentialsForm
from smartcar_tutorial.steps import start_flow

PLANTED_SECRET = "planted-secret-5f1e0c9a-never-shown"


@pytest.fixture
def live_env(monkeypatch):
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "8229df9f-91a0-4ff0-a1ae-a1f38ee24d07")
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", PLANTED_SECRET)
    monkeypatch.setenv("SMARTCAR_REDIRECT_URI", "http://localhost:8080/callback")


def test_use_smartcar_without_credentials_uses_the_sandbox():
    connection = use_smartcar(redirect_uri="http://localhost:0/callback")

    assert not connection.live
    assert connection.connect_origin.startswith("http://localhost:")
    assert connection.token_url == connection.connect_origin + "/oauth/token"
    assert "offline sandbox" in repr(connection)
    assert connection.client_secret not in repr(connection)


def test_use_smartcar_with_credentials_builds_the_sdks_url(live_env):
    connection = use_smartcar()

    url = connection.auth_client(mode="test").get_auth_url(
        ["read_odometer"], {"state": "s-1"}
    )

    assert connection.live
    assert connection.token_url == "https://auth.smartcar.com/oauth/token"
    assert url.startswith("https://connect.smartcar.com/oauth/authorize?")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sdk = smartcar.AuthClient(mode="test").get_auth_url(
            ["read_odometer"], {"state": "s-1"}
        )
    assert url == sdk
    assert PLANTED_SECRET not in repr(connection)


def test_use_smartcar_without_a_secret_says_where_it_looked(monkeypatch):
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "my-app")

    with pytest.raises(ConfigurationError) as info:
        use_smartcar()

    assert "'my-app'" in str(info.value)
    assert "SMARTCAR_CLIENT_SECRET" in str(info.value)
    assert "credentials_form()" in str(info.value)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("/callback", "is relative"),
        ("https://localhost:8080/callback", "uses https"),
        ("sc8229df9f://exchange", "only an app on a phone"),
        ("http://example.com/callback", "only for localhost"),
        ("http://127.0.0.1:8080/callback", "only for localhost"),
    ],
)
def test_redirect_uris_the_kernel_cannot_receive_are_refused(uri, reason):
    with pytest.raises(ConfigurationError) as info:
        check_local_redirect_uri(uri)
    message = str(info.value)
    assert repr(uri) in message and reason in message
    assert "http://localhost:" in message, "the fix is named"


def test_live_mode_refuses_the_simulated_owner(live_env):
    connection = use_smartcar()
    client = connection.auth_client()

    with pytest.raises(ConfigurationError, match="only walks the sandbox"):
        start_flow(client, ["read_vin"], server=_NoServer(), autopilot="approve")


class _NoServer:
    login_url = None

    def expect(self, state, auth_url):
        return None


def test_credentials_form_stores_in_the_environment_and_forgets_the_secret(
    monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG, logger="smartcar_tutorial")
    form = CredentialsForm()
    form.client_id.value = "form-app"
    form.client_secret.value = PLANTED_SECRET

    form.use.click()

    assert os.environ["SMARTCAR_CLIENT_ID"] == "form-app"
    assert os.environ["SMARTCAR_CLIENT_SECRET"] == PLANTED_SECRET
    assert form.client_secret.value == ""
    assert PLANTED_SECRET not in form.message.value
    assert PLANTED_SECRET not in caplog.text
    assert use_smartcar().live


def test_credentials_form_refuses_an_empty_id_without_losing_the_rest():
    form = CredentialsForm()
    form.redirect_uri.value = "http://localhost:9000/cb"

    assert not form.store()
    assert "Client id is empty" in form.message.value
    assert form.redirect_uri.value == "http://localhost:9000/cb"
    assert "SMARTCAR_CLIENT_ID" not in os.environ


@pytest.mark.parametrize("scope", [[], "read_vehicle_info"])
def test_start_flow_needs_a_list_with_at_least_one_permission(scope):
    client = use_smartcar(redirect_uri="http://localhost:0/callback").auth_client()

    with pytest.raises(ConfigurationError, match=r"at least one, such as"):
        start_flow(client, scope, server=_NoServer())
