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
from smartcar_tutorial.steps import start_callback_server, start_flow

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

    assert str(info.value) == (
        "The app 'my-app' has no secret: SMARTCAR_CLIENT_SECRET is not set in "
        "this kernel's environment. Set it before starting JupyterLab, or enter "
        "it in sct.credentials_form(), which keeps it out of the notebook."
    )


@pytest.mark.parametrize(
    ("uri", "problem", "fix"),
    [
        (
            "/callback",
            "is relative; Connect needs an absolute URI",
            "http://localhost:8080/callback",
        ),
        (
            "https://localhost:8080/callback",
            "uses https, but the server in this kernel speaks plain http (which "
            "Smartcar accepts for localhost)",
            "http://localhost:8080/callback",
        ),
        (
            "sc8229df9f://exchange",
            "uses the scheme 'sc8229df9f', which only an app on a phone can "
            "receive, not this kernel",
            "http://localhost:8080/callback",
        ),
        (
            "ftp://localhost/cb",
            "uses the scheme 'ftp'; the server in this kernel receives only http",
            "http://localhost:8080/cb",
        ),
        (
            "http://example.com/callback",
            "uses plain http on 'example.com'; Smartcar accepts plain http only "
            "for localhost",
            "http://localhost:8080/callback",
        ),
        (
            "http://127.0.0.1:9000/callback",
            "uses plain http on '127.0.0.1'; Smartcar accepts plain http only "
            "for localhost",
            "http://localhost:9000/callback",
        ),
        (
            "http://localhost:80800/callback",
            "has a port that is not a number from 0 to 65535",
            "http://localhost:8080/callback",
        ),
    ],
)
def test_redirect_uris_the_kernel_cannot_receive_are_refused(uri, problem, fix):
    with pytest.raises(ConfigurationError) as info:
        check_local_redirect_uri(uri)
    assert str(info.value) == (
        f"The redirect URI {uri!r} {problem}. Register {fix!r} for your app in "
        "Smartcar's dashboard and use exactly that."
    )


def test_use_smartcar_checks_the_redirect_uri_it_is_given():
    with pytest.raises(ConfigurationError, match="'http://localhost:abc/cb' has a"):
        use_smartcar(redirect_uri="http://localhost:abc/cb")


def test_start_callback_server_names_a_port_that_is_no_number():
    with pytest.raises(ConfigurationError) as info:
        start_callback_server("http://localhost:99999/callback")
    assert str(info.value) == (
        "The redirect URI 'http://localhost:99999/callback' has a port that is "
        "not a number from 0 to 65535. The callback server listens on this "
        "machine over plain http: use an address such as "
        "'http://localhost:8080/callback', registered for your app."
    )


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

    with pytest.raises(ConfigurationError) as info:
        start_flow(client, scope, server=_NoServer())
    assert str(info.value) == (
        f"scope={scope!r}: this step asks the owner for permissions, so pass a "
        "list with at least one, such as ['read_vehicle_info']."
    )
