"""Every Connect outcome is reachable from the sandbox's consent pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from sandbox_helpers import CallbackTarget, LoopbackSession

from smartcar_tutorial.sandbox import (
    DEMO_CLIENT_ID,
    DEMO_REDIRECT_URI,
    Sandbox,
    SimulatedOwner,
)
from smartcar_tutorial.sandbox.vehicles import TEST_ACCOUNTS

pytestmark = pytest.mark.localserver

EXIT_ERROR = "user_manually_returned_to_application"


@pytest.fixture
def target():
    with CallbackTarget() as server:
        yield server


def auth_url(sandbox: Sandbox, redirect_uri: str, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": "read_vehicle_info read_odometer",
        "state": "st-9",
        "mode": "test",
        **params,
    }
    return sandbox.origin + "/oauth/authorize?" + urlencode(query)


def walk(sandbox: Sandbox, target: CallbackTarget, owner: SimulatedOwner, **params):
    """Let ``owner`` go through Connect; return what reached the app."""
    sandbox.register_redirect_uri(target.redirect_uri)
    owner.walk(auth_url(sandbox, target.redirect_uri, **params))
    return target.query()


@pytest.mark.parametrize(
    ("email", "error", "extras"),
    [
        ("smartcar@vehicle-incompatible.com", "vehicle_incompatible", {}),
        ("smartcar@invalid-subscription.com", "invalid_subscription", {}),
        ("smartcar@no-vehicles.com", "no_vehicles", {}),
        ("smartcar@server-error.com", "server_error", {}),
        (
            "smartcar@configuration-error.com",
            "configuration_error",
            {"status_code": "400"},
        ),
        ("SmartCar@No-Vehicles.com", "no_vehicles", {}),
    ],
)
def test_test_account_ends_connect_with_its_error(
    loopback_sandbox, target, email: str, error: str, extras: dict[str, str]
) -> None:
    query = walk(loopback_sandbox, target, SimulatedOwner(email=email))

    assert query["error"] == error
    assert query["error_description"]
    assert query["state"] == "st-9"
    assert "code" not in query
    assert extras.items() <= query.items()
    assert loopback_sandbox.store.codes == {}


def test_vehicle_incompatible_names_the_vehicle_of_the_picked_brand(
    loopback_sandbox, target
) -> None:
    owner = SimulatedOwner(email="smartcar@vehicle-incompatible.com", make="kia")

    query = walk(loopback_sandbox, target, owner)

    assert query["make"] == "KIA"
    assert query["model"] == "Soul"
    assert query["year"] == "2012"
    assert query["vin"].startswith("0SCKIA")
    assert len(query["vin"]) == 17


def test_invalid_subscription_carries_no_extras(loopback_sandbox, target) -> None:
    owner = SimulatedOwner(email="smartcar@invalid-subscription.com")

    query = walk(loopback_sandbox, target, owner)

    assert set(query) == {"error", "error_description", "state"}


def test_test_accounts_log_in_normally_outside_test_mode(
    loopback_sandbox, target
) -> None:
    owner = SimulatedOwner(email="smartcar@no-vehicles.com")

    query = walk(loopback_sandbox, target, owner, mode="live")

    assert query["code"] in loopback_sandbox.store.codes


def test_owner_who_exits_returns_to_app_with_state(loopback_sandbox, target) -> None:
    query = walk(loopback_sandbox, target, SimulatedOwner("exit"))

    assert query["error"] == EXIT_ERROR
    assert "before granting" in query["error_description"]
    assert query["state"] == "st-9"
    assert loopback_sandbox.store.codes == {}


def follow(http: LoopbackSession, response: requests.Response) -> requests.Response:
    """Follow the sandbox's 303s between its own pages."""
    while response.status_code == 303:
        location = urljoin(response.url, response.headers["Location"])
        response = http.get(location, allow_redirects=False)
    return response


# What to post on each page to reach the next one.
FORWARD = {
    "intro": {},
    "brand": {"make": "TESLA"},
    "login": {"email": "owner@example.com", "password": "pw"},
}


@pytest.mark.parametrize("page", ["intro", "brand", "login", "permissions"])
def test_back_to_the_app_on_every_page(loopback_sandbox, http, page: str) -> None:
    response = http.get(auth_url(loopback_sandbox, DEMO_REDIRECT_URI))
    while not response.url.endswith("/" + page):
        step = response.url.rsplit("/", 1)[1]
        response = follow(http, http.post(response.url, data=FORWARD[step]))
    assert 'name="exit"' in response.text
    assert "Back to the app" in response.text

    answer = http.post(response.url, data={"exit": "back"}, allow_redirects=False)

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(DEMO_REDIRECT_URI + "?")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == [EXIT_ERROR]
    assert query["state"] == ["st-9"]
    assert http.post(response.url, data={"exit": "back"}).status_code == 410


def test_login_page_documents_the_test_accounts(loopback_sandbox, http) -> None:
    url = auth_url(loopback_sandbox, DEMO_REDIRECT_URI, make="TESLA")

    page = follow(http, http.post(http.get(url).url, data={}))

    assert page.url.endswith("/login")
    for email, account in TEST_ACCOUNTS.items():
        assert email in page.text
        assert account.error in page.text
    assert EXIT_ERROR in page.text
    assert "this sandbox only" in page.text


def test_login_page_says_test_accounts_need_test_mode(loopback_sandbox, http) -> None:
    url = auth_url(loopback_sandbox, DEMO_REDIRECT_URI, make="TESLA", mode="live")

    page = follow(http, http.post(http.get(url).url, data={}))

    assert "work in test mode only" in page.text


def test_permissions_page_lists_the_vehicles_to_share(loopback_sandbox, http) -> None:
    url = auth_url(loopback_sandbox, DEMO_REDIRECT_URI, make="NISSAN", mode="simulated")
    page = follow(http, http.post(http.get(url).url, data={}))

    page = follow(http, http.post(page.url, data=FORWARD["login"]))

    assert page.url.endswith("/permissions")
    assert "Nissan Ariya (2023)" in page.text
    assert "simulated-nissan-" in page.text
