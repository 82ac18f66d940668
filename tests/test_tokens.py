"""exchange_code and refresh: against the sandbox, and byte for byte as the SDK."""

from __future__ import annotations

import json
import logging
import warnings
from datetime import datetime, timedelta, timezone

import pytest
import smartcar
import smartcar.config

from smartcar_tutorial import Access, TokenError, exchange_code, redact, refresh
from smartcar_tutorial.connection import Connection
from smartcar_tutorial.httpserver import BackgroundServer, QuietHandler
from smartcar_tutorial.sandbox import SimulatedOwner
from smartcar_tutorial.steps import redo_steps, start_flow

pytestmark = pytest.mark.localserver

SECRET = "secret-0f9e8d7c-planted"
TOKEN_JSON = {
    "access_token": "access-1a2b3c4d5e6f",
    "token_type": "Bearer",
    "expires_in": 7200,
    "refresh_token": "refresh-6f5e4d3c2b1a",
}


class _RecordingTokenHandler(QuietHandler):
    def do_POST(self) -> None:
        body = self.read_body()
        self.server.owner.requests.append(
            (self.command, self.path, dict(self.headers.items()), body)
        )
        self.send_json(200, TOKEN_JSON)


class TokenRecorder(BackgroundServer):
    """A token endpoint that records each request exactly as it arrived."""

    def __init__(self) -> None:
        super().__init__(_RecordingTokenHandler, name="token recorder")
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []


@pytest.fixture
def recorder():
    with TokenRecorder() as server:
        yield server


@pytest.fixture
def app(recorder) -> Connection:
    return Connection(
        "my-app",
        SECRET,
        "http://localhost:8080/callback",
        "https://connect.smartcar.com",
        recorder.url + "/oauth/token",
        "https://api.smartcar.com",
    )


@pytest.fixture
def sdk(app, monkeypatch):
    monkeypatch.setattr(smartcar.config, "AUTH_ORIGIN", app.token_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return smartcar.AuthClient(app.client_id, SECRET, app.redirect_uri)


def _wire(request: tuple[str, str, dict[str, str], bytes]) -> tuple:
    method, path, headers, body = request
    return method, path, headers["Authorization"], headers["Content-Type"], body


def test_exchange_code_sends_the_sdks_request_byte_for_byte(app, sdk, recorder):
    sdk.exchange_code("code-123 with/odd&chars")
    exchange_code(app, "code-123 with/odd&chars")

    theirs, ours = recorder.requests
    assert _wire(ours) == _wire(theirs)
    assert ours[3] == (
        b"grant_type=authorization_code&code=code-123+with%2Fodd%26chars"
        b"&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback"
    )


def test_refresh_sends_the_sdks_request_byte_for_byte(app, sdk, recorder):
    sdk.exchange_refresh_token("refresh-abc")
    refresh(app, "refresh-abc")

    theirs, ours = recorder.requests
    assert _wire(ours) == _wire(theirs)


def test_access_matches_the_sdks_fields_and_hides_tokens(app, sdk):
    theirs = sdk.exchange_code("c")
    ours = exchange_code(app, "c")

    assert (ours.access_token, ours.token_type, ours.expires_in) == (
        theirs.access_token,
        theirs.token_type,
        theirs.expires_in,
    )
    assert ours.refresh_token == theirs.refresh_token
    assert abs(ours.expiration.replace(tzinfo=None) - theirs.expiration) < timedelta(
        seconds=5
    )
    assert TOKEN_JSON["access_token"] not in repr(ours)
    assert TOKEN_JSON["refresh_token"] not in repr(ours)


def test_access_is_expired_after_its_lifetime():
    issued = datetime(2026, 1, 1, tzinfo=timezone.utc)
    access = Access.from_json(TOKEN_JSON, now=issued)

    assert not access.is_expired(issued + timedelta(seconds=7199))
    assert access.is_expired(issued + timedelta(seconds=7200))
    assert access.refresh_expiration == issued + timedelta(days=60)


def test_redact_shortens_tokens_wherever_they_sit():
    shown = json.dumps(redact({"outer": [TOKEN_JSON], "code": "abcdef123"}))

    assert "access-1a2b3c4d5e6f" not in shown and "refresh-6f5e4d3c2b1a" not in shown
    assert "abcdef123" not in shown
    assert "7200" in shown


def _sandbox_code(scope=("read_vehicle_info",)) -> tuple:
    steps = redo_steps("http://localhost:0/callback")
    flow = start_flow(steps.client, list(scope), steps.server)
    SimulatedOwner("approve").walk(flow.auth_url)
    app = Connection(
        steps.smartcar.client_id,
        steps.smartcar.client_secret,
        steps.client.redirect_uri,
        steps.smartcar.connect_origin,
        steps.smartcar.token_url,
        steps.smartcar.api_origin,
    )
    return app, flow.wait(timeout=5).code


def test_exchange_and_refresh_against_the_sandbox_never_log_tokens(caplog):
    caplog.set_level(logging.DEBUG, logger="smartcar_tutorial")
    app, code = _sandbox_code()

    access = exchange_code(app, code)
    newer = refresh(app, access.refresh_token)

    assert newer.access_token != access.access_token
    for secret in (access.access_token, access.refresh_token, newer.refresh_token):
        assert secret not in caplog.text
    assert app.client_secret not in caplog.text


def test_exchange_code_twice_raises_invalid_grant():
    app, code = _sandbox_code()
    exchange_code(app, code)

    with pytest.raises(TokenError) as info:
        exchange_code(app, code)

    assert info.value.status == 400 and info.value.error == "invalid_grant"
    assert code not in str(info.value)
