"""The sandbox's token endpoint, over real loopback HTTP (RFC 6749 §4.1.3, §6)."""

from __future__ import annotations

import logging

import pytest
import requests
from sandbox_helpers import FakeClock, LoopbackSession, issue_code

from smartcar_tutorial.sandbox import (
    CODE_LIFETIME,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    Sandbox,
)
from smartcar_tutorial.sandbox.grants import REFRESH_TOKEN_LIFETIME

pytestmark = pytest.mark.localserver

DEMO_AUTH = (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)


def post_token(
    http: LoopbackSession,
    sandbox: Sandbox,
    data: dict[str, str] | str,
    auth: tuple[str, str] | None = DEMO_AUTH,
    **kwargs: object,
) -> requests.Response:
    return http.post(sandbox.auth_origin, data=data, auth=auth, **kwargs)


def exchange(
    http: LoopbackSession,
    sandbox: Sandbox,
    code: str,
    redirect_uri: str | None = DEMO_REDIRECT_URI,
    auth: tuple[str, str] | None = DEMO_AUTH,
) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code}
    if redirect_uri is not None:
        data["redirect_uri"] = redirect_uri
    return post_token(http, sandbox, data, auth)


def refresh(
    http: LoopbackSession,
    sandbox: Sandbox,
    refresh_token: str,
    auth: tuple[str, str] = DEMO_AUTH,
) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return post_token(http, sandbox, data, auth)


def assert_error(response: requests.Response, status: int, error: str) -> str:
    """Check an RFC 6749 §5.2 error reply and return its description."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    return body["error_description"]


def test_token_exchange_returns_bearer_pair(loopback_sandbox, http) -> None:
    response = exchange(http, loopback_sandbox, issue_code(loopback_sandbox))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["sc-request-id"]
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 7200
    assert body["access_token"] != body["refresh_token"]


def test_token_exchange_binds_owner_scope_mode_and_vehicles(
    loopback_sandbox, http
) -> None:
    scope = ("required:read_odometer", "read_location")
    code = issue_code(loopback_sandbox, scope, make="KIA", mode="simulated")

    body = exchange(http, loopback_sandbox, code).json()

    grant = loopback_sandbox.store.grants.check_access_token(body["access_token"])
    assert grant.client_id == DEMO_CLIENT_ID
    assert grant.owner == "owner@example.com"
    assert grant.scope == {"read_odometer", "read_location"}
    assert grant.mode == "simulated"
    assert [v.make for v in grant.vehicles] == ["KIA", "KIA"]


def test_token_code_works_once(loopback_sandbox, http) -> None:
    code = issue_code(loopback_sandbox)
    assert exchange(http, loopback_sandbox, code).status_code == 200

    description = assert_error(
        exchange(http, loopback_sandbox, code), 400, "invalid_grant"
    )

    assert "already exchanged" in description
    assert code[:4] + "…" in description
    assert code not in description


@pytest.mark.parametrize(
    ("elapsed", "status"), [(CODE_LIFETIME - 1, 200), (CODE_LIFETIME, 400)]
)
def test_token_code_expires_after_ten_minutes(
    loopback_sandbox, http, fake_clock: FakeClock, elapsed: float, status: int
) -> None:
    code = issue_code(loopback_sandbox)
    fake_clock.now += elapsed

    response = exchange(http, loopback_sandbox, code)

    assert response.status_code == status
    if status == 400:
        assert "expired" in assert_error(response, 400, "invalid_grant")


def test_token_mismatched_redirect_uri_is_invalid_grant(loopback_sandbox, http) -> None:
    code = issue_code(loopback_sandbox)
    other = "http://localhost:9999/elsewhere"

    description = assert_error(
        exchange(http, loopback_sandbox, code, redirect_uri=other),
        400,
        "invalid_grant",
    )

    assert other in description
    assert DEMO_REDIRECT_URI in description
    # A refused exchange does not use the code up.
    assert exchange(http, loopback_sandbox, code).status_code == 200


def test_token_without_redirect_uri_the_url_sent_is_invalid_request(
    loopback_sandbox, http
) -> None:
    code = issue_code(loopback_sandbox)

    description = assert_error(
        exchange(http, loopback_sandbox, code, redirect_uri=None),
        400,
        "invalid_request",
    )

    assert "no redirect_uri" in description


def test_token_without_redirect_uri_works_when_url_had_none(
    loopback_sandbox, http
) -> None:
    code = issue_code(loopback_sandbox, redirect_uri_sent=False)

    assert exchange(http, loopback_sandbox, code, redirect_uri=None).status_code == 200


def test_token_code_of_another_app_is_invalid_grant(loopback_sandbox, http) -> None:
    loopback_sandbox.register_client("app-2", "secret-2", [DEMO_REDIRECT_URI])
    code = issue_code(loopback_sandbox)

    description = assert_error(
        exchange(http, loopback_sandbox, code, auth=("app-2", "secret-2")),
        400,
        "invalid_grant",
    )

    assert "another app" in description
    assert exchange(http, loopback_sandbox, code).status_code == 200


def test_token_wrong_secret_is_invalid_client(loopback_sandbox, http) -> None:
    code = issue_code(loopback_sandbox)

    response = exchange(
        http, loopback_sandbox, code, auth=(DEMO_CLIENT_ID, "wrong-secret")
    )

    description = assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert DEMO_CLIENT_ID in description
    assert "wrong-secret" not in description
    assert exchange(http, loopback_sandbox, code).status_code == 200


def test_token_unknown_client_is_invalid_client(loopback_sandbox, http) -> None:
    response = exchange(
        http, loopback_sandbox, issue_code(loopback_sandbox), auth=("nobody", "x")
    )

    assert "'nobody'" in assert_error(response, 401, "invalid_client")


def test_token_missing_auth_is_invalid_client(loopback_sandbox, http) -> None:
    response = exchange(http, loopback_sandbox, issue_code(loopback_sandbox), auth=None)

    description = assert_error(response, 401, "invalid_client")
    assert "Authorization: Basic" in description


def test_token_credentials_in_form_body_are_refused_by_name(
    loopback_sandbox, http
) -> None:
    data = {
        "grant_type": "authorization_code",
        "code": issue_code(loopback_sandbox),
        "redirect_uri": DEMO_REDIRECT_URI,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }

    response = post_token(http, loopback_sandbox, data, auth=None)

    assert "not in the form body" in assert_error(response, 401, "invalid_client")


def test_token_malformed_basic_credentials_are_invalid_client(
    loopback_sandbox, http
) -> None:
    response = http.post(
        loopback_sandbox.auth_origin,
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"Authorization": "Basic not*base64"},
    )

    assert "base64" in assert_error(response, 401, "invalid_client")


def test_token_unsupported_grant_type(loopback_sandbox, http) -> None:
    data = {"grant_type": "password", "username": "u", "password": "p"}

    response = post_token(http, loopback_sandbox, data)

    description = assert_error(response, 400, "unsupported_grant_type")
    assert "'password'" in description
    assert "refresh_token" in description


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        ({"code": "abc"}, "grant_type"),
        ({"grant_type": "authorization_code"}, "code"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
    ],
)
def test_token_missing_field_is_invalid_request(
    loopback_sandbox, http, data: dict[str, str], missing: str
) -> None:
    response = post_token(http, loopback_sandbox, data)

    assert f"no {missing!r}" in assert_error(response, 400, "invalid_request")


def test_token_repeated_parameter_is_invalid_request(loopback_sandbox, http) -> None:
    body = "grant_type=refresh_token&refresh_token=a&refresh_token=b"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    response = post_token(http, loopback_sandbox, body, headers=headers)

    assert "more than once" in assert_error(response, 400, "invalid_request")


def test_token_json_body_is_invalid_request(loopback_sandbox, http) -> None:
    response = http.post(
        loopback_sandbox.auth_origin,
        json={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=DEMO_AUTH,
    )

    description = assert_error(response, 400, "invalid_request")
    assert "application/x-www-form-urlencoded" in description


def test_token_endpoint_refuses_get(loopback_sandbox, http) -> None:
    response = http.get(loopback_sandbox.auth_origin)

    assert "POST" in assert_error(response, 405, "invalid_request")


def test_token_oversized_body_is_refused(loopback_sandbox, http) -> None:
    data = {"grant_type": "refresh_token", "refresh_token": "x" * 20_000}

    response = post_token(http, loopback_sandbox, data)

    assert_error(response, 413, "invalid_request")


def test_refresh_returns_new_pair_and_old_refresh_token_fails(
    loopback_sandbox, http
) -> None:
    first = exchange(http, loopback_sandbox, issue_code(loopback_sandbox)).json()

    second = refresh(http, loopback_sandbox, first["refresh_token"])
    again = refresh(http, loopback_sandbox, first["refresh_token"])

    assert second.status_code == 200
    pair = second.json()
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 7200
    assert pair["access_token"] != first["access_token"]
    assert pair["refresh_token"] != first["refresh_token"]
    assert "already used" in assert_error(again, 400, "invalid_grant")
    assert refresh(http, loopback_sandbox, pair["refresh_token"]).status_code == 200


def test_refresh_unknown_token_is_invalid_grant(loopback_sandbox, http) -> None:
    description = assert_error(
        refresh(http, loopback_sandbox, "made-up-token"), 400, "invalid_grant"
    )

    assert "never issued" in description
    assert "made-up-token" not in description


def test_refresh_token_of_another_app_is_invalid_grant(loopback_sandbox, http) -> None:
    loopback_sandbox.register_client("app-2", "secret-2", [DEMO_REDIRECT_URI])
    pair = exchange(http, loopback_sandbox, issue_code(loopback_sandbox)).json()

    response = refresh(
        http, loopback_sandbox, pair["refresh_token"], auth=("app-2", "secret-2")
    )

    assert "another app" in assert_error(response, 400, "invalid_grant")
    assert refresh(http, loopback_sandbox, pair["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("elapsed", "status"),
    [(REFRESH_TOKEN_LIFETIME - 1, 200), (REFRESH_TOKEN_LIFETIME, 400)],
)
def test_refresh_token_lives_sixty_days(
    loopback_sandbox, http, fake_clock: FakeClock, elapsed: float, status: int
) -> None:
    pair = exchange(http, loopback_sandbox, issue_code(loopback_sandbox)).json()
    fake_clock.now += elapsed

    response = refresh(http, loopback_sandbox, pair["refresh_token"])

    assert response.status_code == status
    if status == 400:
        assert "60 days" in assert_error(response, 400, "invalid_grant")


def test_token_endpoint_never_logs_secrets_or_whole_tokens(
    loopback_sandbox, http, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smartcar_tutorial")
    code = issue_code(loopback_sandbox)

    pair = exchange(http, loopback_sandbox, code).json()
    newer = refresh(http, loopback_sandbox, pair["refresh_token"]).json()
    refresh(http, loopback_sandbox, pair["refresh_token"])
    exchange(http, loopback_sandbox, code, auth=(DEMO_CLIENT_ID, "wrong-secret"))

    secrets = [
        code,
        DEMO_CLIENT_SECRET,
        "wrong-secret",
        *pair.values(),
        *newer.values(),
    ]
    for secret in secrets:
        if isinstance(secret, str) and len(secret) > 8:
            assert secret not in caplog.text
    assert pair["access_token"][:4] + "…" in caplog.text
