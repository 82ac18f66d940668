"""Smartcar's own Python SDK, unmodified, works against the sandbox.

The SDK reads its three origins from ``smartcar.config``; each test points
them at a sandbox on loopback and puts them back afterwards.
"""

from __future__ import annotations

import pytest
import smartcar
import smartcar.config
from sandbox_helpers import CallbackTarget, FakeClock, issue_code
from smartcar.exception import SmartcarException

from smartcar_tutorial.sandbox import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    Sandbox,
    SimulatedOwner,
)
from smartcar_tutorial.sandbox.grants import ACCESS_TOKEN_LIFETIME

pytestmark = pytest.mark.localserver

SCOPE = ["read_vehicle_info", "read_odometer"]


@pytest.fixture
def sandbox(loopback_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The loopback sandbox, with Smartcar's SDK pointed at it."""
    monkeypatch.setattr(smartcar.config, "CONNECT_ORIGIN", loopback_sandbox.origin)
    monkeypatch.setattr(smartcar.config, "AUTH_ORIGIN", loopback_sandbox.auth_origin)
    monkeypatch.setattr(smartcar.config, "API_ORIGIN", loopback_sandbox.api_origin)
    # The SDK's requests honour proxy variables; loopback must bypass them.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return loopback_sandbox


@pytest.fixture
def target(sandbox: Sandbox):
    with CallbackTarget() as server:
        sandbox.register_redirect_uri(server.redirect_uri)
        yield server


def sdk_client(redirect_uri: str = DEMO_REDIRECT_URI, **options: str):
    return smartcar.AuthClient(
        DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uri, mode="test", **options
    )


def test_sdk_connect_exchange_and_first_requests(sandbox, target) -> None:
    client = sdk_client(target.redirect_uri)
    url = client.get_auth_url(SCOPE, {"state": "sdk-state", "make_bypass": "FORD"})
    SimulatedOwner().walk(url)
    query = target.query()
    assert query["state"] == "sdk-state"

    access = client.exchange_code(query["code"])
    vehicles = smartcar.get_vehicles(access.access_token)
    vehicle = smartcar.Vehicle(vehicles.vehicles[0], access.access_token)
    attributes = vehicle.attributes()
    odometer = vehicle.odometer()

    assert access.token_type == "Bearer"
    assert access.expires_in == 7200
    assert access.refresh_token
    assert vehicles.paging.count == 2
    assert vehicles.meta.request_id
    assert (attributes.make, attributes.model, attributes.year) == (
        "FORD",
        "Mustang Mach-E",
        2022,
    )
    assert attributes.id.startswith("test-ford-")
    assert odometer.distance == 21907.3
    assert odometer.meta.unit_system == "metric"
    assert odometer.meta.data_age
    assert odometer.meta.request_id


def test_sdk_refresh_returns_a_working_pair(sandbox) -> None:
    client = sdk_client()
    access = client.exchange_code(issue_code(sandbox, make="BMW"))

    newer = client.exchange_refresh_token(access.refresh_token)

    assert newer.access_token != access.access_token
    assert newer.refresh_token != access.refresh_token
    vehicles = smartcar.get_vehicles(newer.access_token, {"limit": 1, "offset": 1})
    assert len(vehicles.vehicles) == 1
    assert vehicles.paging.offset == 1
    with pytest.raises(SmartcarException) as caught:
        client.exchange_refresh_token(access.refresh_token)
    assert caught.value.type == "invalid_grant"
    assert "already used" in caught.value.message


def test_sdk_used_code_raises_invalid_grant(sandbox) -> None:
    client = sdk_client()
    code = issue_code(sandbox)
    client.exchange_code(code)

    with pytest.raises(SmartcarException) as caught:
        client.exchange_code(code)

    assert caught.value.type == "invalid_grant"
    assert caught.value.status_code == 400
    assert "already exchanged" in caught.value.message


def test_sdk_wrong_secret_raises_invalid_client(sandbox) -> None:
    client = smartcar.AuthClient(DEMO_CLIENT_ID, "wrong-secret", DEMO_REDIRECT_URI)

    with pytest.raises(SmartcarException) as caught:
        client.exchange_code(issue_code(sandbox))

    assert caught.value.type == "invalid_client"
    assert caught.value.status_code == 401
    assert "client_secret" in caught.value.message
    assert "wrong-secret" not in str(caught.value)


def test_sdk_expired_token_raises_authentication(
    sandbox, fake_clock: FakeClock
) -> None:
    access = sdk_client().exchange_code(issue_code(sandbox))
    fake_clock.now += ACCESS_TOKEN_LIFETIME

    with pytest.raises(SmartcarException) as caught:
        smartcar.get_vehicles(access.access_token)

    error = caught.value
    assert error.type == "AUTHENTICATION"
    assert error.status_code == 401
    assert "expired" in error.description
    assert error.request_id
    assert str(error).startswith("AUTHENTICATION - ")


def test_sdk_missing_permission_raises_permission(sandbox) -> None:
    access = sdk_client().exchange_code(issue_code(sandbox, ("read_vehicle_info",)))
    vehicle_id = smartcar.get_vehicles(access.access_token).vehicles[0]

    with pytest.raises(SmartcarException) as caught:
        smartcar.Vehicle(vehicle_id, access.access_token).odometer()

    error = caught.value
    assert error.type == "PERMISSION"
    assert error.status_code == 403
    assert "'read_odometer'" in error.description
    assert error.resolution == {"type": "REAUTHENTICATE", "url": None}
    assert error.doc_url.startswith("https://smartcar.com/docs/")
