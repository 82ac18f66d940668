"""The sandbox's vehicle API, over real loopback HTTP, with tokens it issued."""

from __future__ import annotations

import pytest
import requests
from sandbox_helpers import FakeClock, LoopbackSession, issue_code

from smartcar_tutorial.sandbox import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    Sandbox,
)
from smartcar_tutorial.sandbox.grants import ACCESS_TOKEN_LIFETIME

pytestmark = pytest.mark.localserver

ERROR_FIELDS = {
    "type",
    "code",
    "description",
    "docURL",
    "statusCode",
    "requestId",
    "resolution",
}


def get_tokens(
    http: LoopbackSession,
    sandbox: Sandbox,
    scope: tuple[str, ...] = ("read_vehicle_info", "read_odometer"),
    **code_options: str,
) -> dict[str, str]:
    """Exchange a fresh code at the token endpoint; return the token pair."""
    data = {
        "grant_type": "authorization_code",
        "code": issue_code(sandbox, scope, **code_options),
        "redirect_uri": DEMO_REDIRECT_URI,
    }
    response = http.post(
        sandbox.auth_origin, data=data, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    )
    assert response.status_code == 200, response.text
    return response.json()


def api_get(
    http: LoopbackSession,
    sandbox: Sandbox,
    path: str,
    token: str | None,
    **kwargs: object,
) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return http.get(sandbox.api_origin + path, headers=headers, **kwargs)


def vehicle_ids(http: LoopbackSession, sandbox: Sandbox, token: str) -> list[str]:
    return api_get(http, sandbox, "/v2.0/vehicles", token).json()["vehicles"]


def assert_api_error(
    response: requests.Response, status: int, error_type: str, code: str | None = None
) -> dict:
    """Check an error in Smartcar's v2 shape and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_FIELDS
    assert body["type"] == error_type
    assert body["code"] == code
    assert body["statusCode"] == status
    assert body["requestId"] == response.headers["sc-request-id"]
    assert body["docURL"].startswith("https://smartcar.com/docs/")
    return body


def test_api_lists_vehicles_with_paging_and_request_id(loopback_sandbox, http) -> None:
    tokens = get_tokens(http, loopback_sandbox)

    response = api_get(http, loopback_sandbox, "/v2.0/vehicles", tokens["access_token"])

    assert response.status_code == 200
    body = response.json()
    assert len(body["vehicles"]) == 2
    assert body["paging"] == {"count": 2, "offset": 0}
    assert response.headers["sc-request-id"]
    assert "sc-data-age" not in response.headers


@pytest.mark.parametrize("mode", ["test", "live", "simulated"])
def test_api_vehicle_ids_show_mode_and_brand(loopback_sandbox, http, mode) -> None:
    tokens = get_tokens(http, loopback_sandbox, make="KIA", mode=mode)

    ids = vehicle_ids(http, loopback_sandbox, tokens["access_token"])

    assert all(vehicle_id.startswith(f"{mode}-kia-") for vehicle_id in ids)


def test_api_demo_vehicles_are_the_same_in_every_run(http) -> None:
    seen = []
    for _ in range(2):
        with Sandbox(host="127.0.0.1") as sandbox:
            token = get_tokens(http, sandbox)["access_token"]
            first = vehicle_ids(http, sandbox, token)[0]
            attributes = api_get(http, sandbox, f"/v2.0/vehicles/{first}", token)
            odometer = api_get(http, sandbox, f"/v2.0/vehicles/{first}/odometer", token)
            seen.append((attributes.json(), odometer.json()))

    assert seen[0] == seen[1]
    attributes, odometer = seen[0]
    assert attributes["make"] == "TESLA"
    assert (attributes["model"], attributes["year"]) == ("Model 3", 2021)
    assert odometer == {"distance": 41286.5}


@pytest.mark.parametrize(
    ("query", "index", "offset"),
    [("limit=1", [0], 0), ("limit=1&offset=1", [1], 1), ("offset=2", [], 2)],
)
def test_api_vehicles_honour_limit_and_offset(
    loopback_sandbox, http, query: str, index: list[int], offset: int
) -> None:
    token = get_tokens(http, loopback_sandbox)["access_token"]
    every = vehicle_ids(http, loopback_sandbox, token)

    body = api_get(http, loopback_sandbox, f"/v2.0/vehicles?{query}", token).json()

    assert body["vehicles"] == [every[i] for i in index]
    assert body["paging"] == {"count": 2, "offset": offset}


@pytest.mark.parametrize("query", ["limit=0", "limit=51", "offset=-1", "limit=ten"])
def test_api_bad_paging_is_a_validation_error(
    loopback_sandbox, http, query: str
) -> None:
    token = get_tokens(http, loopback_sandbox)["access_token"]

    response = api_get(http, loopback_sandbox, f"/v2.0/vehicles?{query}", token)

    body = assert_api_error(response, 400, "VALIDATION", "PARAMETER")
    assert query.split("=")[0] in body["description"]


@pytest.mark.parametrize("slash", ["", "/"])
def test_api_attributes_with_or_without_trailing_slash(
    loopback_sandbox, http, slash: str
) -> None:
    token = get_tokens(http, loopback_sandbox, make="FORD")["access_token"]
    vehicle_id = vehicle_ids(http, loopback_sandbox, token)[0]

    response = api_get(
        http, loopback_sandbox, f"/v2.0/vehicles/{vehicle_id}{slash}", token
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": vehicle_id,
        "make": "FORD",
        "model": "Mustang Mach-E",
        "year": 2022,
    }
    assert response.headers["sc-request-id"]


def test_api_odometer_carries_data_headers(
    loopback_sandbox, http, fake_clock: FakeClock
) -> None:
    fake_clock.now = 1_700_000_000.25
    token = get_tokens(http, loopback_sandbox)["access_token"]
    vehicle_id = vehicle_ids(http, loopback_sandbox, token)[0]

    response = api_get(
        http, loopback_sandbox, f"/v2.0/vehicles/{vehicle_id}/odometer", token
    )

    assert response.status_code == 200
    assert response.json() == {"distance": 41286.5}
    assert response.headers["sc-data-age"] == "2023-11-14T22:13:20.250Z"
    assert response.headers["sc-unit-system"] == "metric"
    assert response.headers["sc-request-id"]


def test_api_odometer_in_miles_for_imperial(loopback_sandbox, http) -> None:
    token = get_tokens(http, loopback_sandbox)["access_token"]
    vehicle_id = vehicle_ids(http, loopback_sandbox, token)[0]

    response = api_get(
        http,
        loopback_sandbox,
        f"/v2.0/vehicles/{vehicle_id}/odometer",
        token,
        headers={"sc-unit-system": "imperial"},
    )

    assert response.json() == {"distance": 25654.2}
    assert response.headers["sc-unit-system"] == "imperial"


def test_api_unknown_unit_system_is_a_validation_error(loopback_sandbox, http) -> None:
    token = get_tokens(http, loopback_sandbox)["access_token"]

    response = api_get(
        http,
        loopback_sandbox,
        "/v2.0/vehicles",
        token,
        headers={"sc-unit-system": "furlongs"},
    )

    assert (
        "'furlongs'"
        in assert_api_error(response, 400, "VALIDATION", "PARAMETER")["description"]
    )


def test_api_location_and_vin_with_their_permissions(loopback_sandbox, http) -> None:
    scope = ("read_location", "required:read_vin")
    token = get_tokens(http, loopback_sandbox, scope, make="AUDI")["access_token"]
    vehicle_id = vehicle_ids(http, loopback_sandbox, token)[0]
    base = f"/v2.0/vehicles/{vehicle_id}"

    location = api_get(http, loopback_sandbox, base + "/location", token)
    vin = api_get(http, loopback_sandbox, base + "/vin", token).json()["vin"]

    assert location.json() == {"latitude": 48.7665, "longitude": 11.4257}
    assert location.headers["sc-data-age"]
    assert vin.startswith("0SCAUDI")
    assert len(vin) == 17


@pytest.mark.parametrize(
    ("resource", "permission"),
    [
        ("", "read_vehicle_info"),
        ("odometer", "read_odometer"),
        ("location", "read_location"),
        ("vin", "read_vin"),
    ],
)
def test_api_refuses_what_the_owner_did_not_grant(
    loopback_sandbox, http, resource: str, permission: str
) -> None:
    token = get_tokens(http, loopback_sandbox, ("read_fuel",))["access_token"]
    vehicle_id = vehicle_ids(http, loopback_sandbox, token)[0]

    response = api_get(
        http, loopback_sandbox, f"/v2.0/vehicles/{vehicle_id}/{resource}", token
    )

    body = assert_api_error(response, 403, "PERMISSION")
    assert f"'{permission}'" in body["description"]
    assert "read_fuel" in body["description"]
    assert body["resolution"] == {"type": "REAUTHENTICATE"}
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_api_permissions_lists_what_was_granted(loopback_sandbox, http) -> None:
    scope = ("required:read_odometer", "read_vehicle_info")
    token = get_tokens(http, loopback_sandbox, scope)["access_token"]
    vehicle_id = vehicle_ids(http, loopback_sandbox, token)[0]

    response = api_get(
        http, loopback_sandbox, f"/v2.0/vehicles/{vehicle_id}/permissions", token
    )

    assert response.json() == {
        "permissions": ["read_odometer", "read_vehicle_info"],
        "paging": {"count": 2, "offset": 0},
    }


def test_api_vehicle_the_owner_did_not_share_is_refused(loopback_sandbox, http) -> None:
    tesla = get_tokens(http, loopback_sandbox, make="TESLA")["access_token"]
    kia = get_tokens(http, loopback_sandbox, make="KIA")["access_token"]
    kia_vehicle = vehicle_ids(http, loopback_sandbox, kia)[0]

    response = api_get(http, loopback_sandbox, f"/v2.0/vehicles/{kia_vehicle}", tesla)

    body = assert_api_error(response, 403, "PERMISSION")
    assert kia_vehicle in body["description"]
    assert "get_vehicles" in body["description"]


def test_api_without_token_is_an_authentication_error(loopback_sandbox, http) -> None:
    response = api_get(http, loopback_sandbox, "/v2.0/vehicles", None)

    body = assert_api_error(response, 401, "AUTHENTICATION")
    assert "no Authorization header" in body["description"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_api_wrong_token_is_an_authentication_error(loopback_sandbox, http) -> None:
    made_up = "0123456789-made-up-token"

    response = api_get(http, loopback_sandbox, "/v2.0/vehicles", made_up)

    body = assert_api_error(response, 401, "AUTHENTICATION")
    assert "never issued" in body["description"]
    assert made_up not in body["description"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_api_basic_credentials_are_refused_by_name(loopback_sandbox, http) -> None:
    response = http.get(
        loopback_sandbox.api_origin + "/v2.0/vehicles",
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    )

    body = assert_api_error(response, 401, "AUTHENTICATION")
    assert "Basic" in body["description"]
    assert DEMO_CLIENT_SECRET not in body["description"]


@pytest.mark.parametrize(
    ("elapsed", "status"),
    [(ACCESS_TOKEN_LIFETIME - 1, 200), (ACCESS_TOKEN_LIFETIME, 401)],
)
def test_api_access_token_expires_after_two_hours(
    loopback_sandbox, http, fake_clock: FakeClock, elapsed: float, status: int
) -> None:
    token = get_tokens(http, loopback_sandbox)["access_token"]
    fake_clock.now += elapsed

    response = api_get(http, loopback_sandbox, "/v2.0/vehicles", token)

    assert response.status_code == status
    if status == 401:
        body = assert_api_error(response, 401, "AUTHENTICATION")
        assert "expired" in body["description"]
        assert "exchange_refresh_token" in body["description"]


def test_api_refreshed_token_reaches_the_same_vehicles(
    loopback_sandbox, http, fake_clock: FakeClock
) -> None:
    first = get_tokens(http, loopback_sandbox)
    before = vehicle_ids(http, loopback_sandbox, first["access_token"])
    fake_clock.now += ACCESS_TOKEN_LIFETIME

    newer = http.post(
        loopback_sandbox.auth_origin,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    ).json()

    assert vehicle_ids(http, loopback_sandbox, newer["access_token"]) == before


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v2.0/vehicles/some-id/fuel", "PATH"),
        ("/v2.0/user", "PATH"),
        ("/v1.0/vehicles", "VERSION"),
    ],
)
def test_api_unknown_path_is_resource_not_found(
    loopback_sandbox, http, path: str, code: str
) -> None:
    token = get_tokens(http, loopback_sandbox)["access_token"]

    response = api_get(http, loopback_sandbox, path, token)

    body = assert_api_error(response, 404, "RESOURCE_NOT_FOUND", code)
    assert "2.0" in body["description"]


def test_api_brand_sent_in_url_but_not_on_picker_gets_demo_vehicles(
    loopback_sandbox, http
) -> None:
    token = get_tokens(http, loopback_sandbox, make="DeLorean")["access_token"]
    vehicle_id = vehicle_ids(http, loopback_sandbox, token)[0]

    attributes = api_get(http, loopback_sandbox, f"/v2.0/vehicles/{vehicle_id}", token)

    assert vehicle_id.startswith("test-delorean-")
    assert attributes.json()["make"] == "DELOREAN"
