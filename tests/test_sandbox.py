"""The sandbox's Connect pages, driven over real loopback HTTP."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import pytest
import requests

from smartcar_tutorial import AuthClient, ConfigurationError
from smartcar_tutorial.sandbox import (
    CODE_LIFETIME,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    CodeRejectedError,
    Sandbox,
)

pytestmark = pytest.mark.localserver


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock):
    with Sandbox(clock=clock) as server:
        yield server


@pytest.fixture
def browser():
    with requests.Session() as session:
        session.trust_env = False
        yield session


def authorize_url(sandbox: Sandbox, **params: str | None) -> str:
    """Return an authorization URL; a None value leaves that parameter out."""
    query = {
        "response_type": "code",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": DEMO_REDIRECT_URI,
        "scope": "read_vehicle_info read_odometer",
        "state": "state-123",
        "mode": "test",
        **params,
    }
    query = {k: v for k, v in query.items() if v is not None}
    return sandbox.origin + "/oauth/authorize?" + urlencode(query)


def submit(browser: requests.Session, page: requests.Response, **form: str):
    """Post a form to the page it came from and follow the sandbox's 303s.

    The final 302 back to the app is returned unfollowed.
    """
    response = browser.post(page.url, data=form, allow_redirects=False)
    for _ in range(5):
        if response.status_code != 303:
            break
        response = browser.get(
            urljoin(response.url, response.headers["Location"]),
            allow_redirects=False,
        )
    return response


def reach_permissions(browser: requests.Session, url: str) -> requests.Response:
    page = browser.get(url)
    page = submit(browser, page)
    if page.url.endswith("/brand"):
        page = submit(browser, page, make="TESLA")
    page = submit(browser, page, email="owner@example.com", password="pw")
    assert page.url.endswith("/permissions"), page.text
    return page


def redirect_query(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {name: values[0] for name, values in query.items()}


def test_health_names_service_and_origin(sandbox: Sandbox, browser) -> None:
    reply = browser.get(sandbox.origin + "/health").json()

    assert reply == {"service": "smartcar-tutorial-sandbox", "origin": sandbox.origin}


def test_sandbox_approve_redirects_with_code_and_state(
    sandbox: Sandbox, browser
) -> None:
    page = reach_permissions(browser, authorize_url(sandbox))

    answer = submit(browser, page, decision="allow")

    assert answer.headers["Location"].startswith(DEMO_REDIRECT_URI + "?")
    query = redirect_query(answer)
    assert query["state"] == "state-123"
    assert query["code"] in sandbox.store.codes


def test_sandbox_deny_redirects_with_access_denied_and_state(
    sandbox: Sandbox, browser
) -> None:
    page = reach_permissions(browser, authorize_url(sandbox))

    query = redirect_query(submit(browser, page, decision="deny"))

    assert query["error"] == "access_denied"
    assert query["error_description"] == "User denied access to application."
    assert query["state"] == "state-123"
    assert "code" not in query
    assert sandbox.store.codes == {}


def test_sandbox_without_state_sends_no_state(sandbox: Sandbox, browser) -> None:
    page = reach_permissions(browser, authorize_url(sandbox, state=None))

    assert "state" not in redirect_query(submit(browser, page, decision="allow"))


def test_sandbox_accepts_url_built_by_auth_client(sandbox: Sandbox, browser) -> None:
    client = AuthClient(
        sandbox.client_id,
        sandbox.client_secret,
        redirect_uri=DEMO_REDIRECT_URI,
        mode="test",
        connect_origin=sandbox.origin,
    )
    url = client.get_auth_url(["required:read_odometer"], {"state": "s 1"})

    page = reach_permissions(browser, url)

    assert "Read the odometer" in page.text
    assert redirect_query(submit(browser, page, decision="allow"))["state"] == "s 1"


def test_authorize_unknown_client_shows_error_page_without_redirect(
    sandbox: Sandbox, browser
) -> None:
    response = browser.get(
        authorize_url(sandbox, client_id="no-such-app"), allow_redirects=False
    )

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "no-such-app" in response.text
    assert "register_client" in response.text


def test_authorize_unregistered_redirect_uri_shows_error_page(
    sandbox: Sandbox, browser
) -> None:
    other = "http://localhost:9999/callback"

    response = browser.get(
        authorize_url(sandbox, redirect_uri=other), allow_redirects=False
    )

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert other in response.text
    assert DEMO_REDIRECT_URI in response.text


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"response_type": None}, "response_type"),
        ({"response_type": "token"}, "token"),
        ({"mode": "production"}, "production"),
        ({"client_id": None}, "client_id"),
    ],
)
def test_authorize_malformed_request_shows_error_page(
    sandbox: Sandbox, browser, params: dict, named: str
) -> None:
    response = browser.get(authorize_url(sandbox, **params), allow_redirects=False)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert named in response.text


def test_authorize_repeated_parameter_shows_error_page(
    sandbox: Sandbox, browser
) -> None:
    url = authorize_url(sandbox) + "&state=another"

    response = browser.get(url, allow_redirects=False)

    assert response.status_code == 400
    assert "more than once" in response.text


def test_authorize_without_redirect_uri_uses_first_registered(
    sandbox: Sandbox, browser
) -> None:
    sandbox.register_redirect_uri("http://localhost:7000/other")
    page = reach_permissions(browser, authorize_url(sandbox, redirect_uri=None))

    answer = submit(browser, page, decision="allow")

    assert answer.headers["Location"].startswith(DEMO_REDIRECT_URI + "?code=")


def test_authorize_accepts_any_order_and_percent20(sandbox: Sandbox, browser) -> None:
    query = (
        f"mode=TEST&scope=read_odometer%20read_vin&state=a%20b"
        f"&redirect_uri={quote(DEMO_REDIRECT_URI, safe='')}"
        f"&client_id={DEMO_CLIENT_ID}&response_type=code"
    )
    page = reach_permissions(browser, sandbox.origin + "/oauth/authorize?" + query)

    assert "Read the odometer" in page.text
    assert "Read the VIN" in page.text
    assert "test mode" in page.text
    assert redirect_query(submit(browser, page, decision="allow"))["state"] == "a b"


def test_intro_says_app_wants_to_connect_and_shows_sandbox_banner(
    sandbox: Sandbox, browser
) -> None:
    page = browser.get(authorize_url(sandbox, mode="simulated"))

    assert "Smartcar Tutorial Demo wants to connect to your vehicle" in page.text
    assert "Offline sandbox" in page.text
    assert "simulated mode" in page.text
    assert '<meta name="viewport"' in page.text
    assert "<script" not in page.text
    assert '<form method="post"' in page.text


def test_brand_page_shown_without_make(sandbox: Sandbox, browser) -> None:
    page = submit(browser, browser.get(authorize_url(sandbox)))

    assert page.url.endswith("/brand")
    assert 'name="make" value="TESLA"' in page.text


def test_brand_page_skipped_when_make_given(sandbox: Sandbox, browser) -> None:
    page = submit(browser, browser.get(authorize_url(sandbox, make="TESLA")))

    assert page.url.endswith("/login")
    assert "Log in to your Tesla account" in page.text


def test_login_page_has_form_and_says_any_login_works(
    sandbox: Sandbox, browser
) -> None:
    page = submit(browser, browser.get(authorize_url(sandbox, make="FORD")))

    assert 'type="email"' in page.text
    assert 'type="password"' in page.text
    assert "In test mode any email and password work" in page.text


def test_login_without_password_asks_again(sandbox: Sandbox, browser) -> None:
    page = submit(browser, browser.get(authorize_url(sandbox, make="FORD")))

    again = submit(browser, page, email="me@example.com", password="")

    assert again.status_code == 400
    assert "Enter an email and a password" in again.text
    assert 'value="me@example.com"' in again.text


def test_login_test_account_redirects_with_its_error(sandbox: Sandbox, browser) -> None:
    page = submit(browser, browser.get(authorize_url(sandbox, make="FORD")))

    answer = submit(
        browser, page, email="smartcar@vehicle-incompatible.com", password="x"
    )

    query = redirect_query(answer)
    assert query["error"] == "vehicle_incompatible"
    assert query["state"] == "state-123"


def test_permissions_page_lists_plain_words(sandbox: Sandbox, browser) -> None:
    url = authorize_url(sandbox, scope="read_vehicle_info required:control_security")

    page = reach_permissions(browser, url)

    assert "Know the make, model and year" in page.text
    assert "Lock or unlock the vehicle" in page.text
    assert "required" in page.text
    assert 'name="decision" value="allow"' in page.text
    assert 'name="decision" value="deny"' in page.text


def test_pages_escape_user_controlled_text(sandbox: Sandbox, browser) -> None:
    attack = "<script>alert(1)</script>"
    url = authorize_url(sandbox, state=attack, scope=f"read_odometer {attack}")

    page = reach_permissions(browser, url)

    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert redirect_query(submit(browser, page, decision="allow"))["state"] == attack


def test_error_page_escapes_redirect_uri(sandbox: Sandbox, browser) -> None:
    url = authorize_url(sandbox, redirect_uri="http://x/<img src=x onerror=alert(1)>")

    response = browser.get(url, allow_redirects=False)

    assert "<img" not in response.text
    assert "&lt;img" in response.text


def test_issued_code_recorded_in_store(
    sandbox: Sandbox, browser, clock: FakeClock
) -> None:
    page = reach_permissions(browser, authorize_url(sandbox, scope="read_odometer"))

    code = redirect_query(submit(browser, page, decision="allow"))["code"]

    issued = sandbox.store.codes[code]
    assert issued.client_id == DEMO_CLIENT_ID
    assert issued.redirect_uri == DEMO_REDIRECT_URI
    assert issued.scope == ("read_odometer",)
    assert issued.mode == "test"
    assert issued.make == "TESLA"
    assert issued.issued_at == clock.now
    assert issued.expires_at == clock.now + CODE_LIFETIME
    assert issued.used_at is None


def test_store_code_works_once(sandbox: Sandbox, browser) -> None:
    page = reach_permissions(browser, authorize_url(sandbox))
    code = redirect_query(submit(browser, page, decision="allow"))["code"]

    assert sandbox.store.redeem_code(code).code == code
    with pytest.raises(CodeRejectedError, match="already exchanged") as caught:
        sandbox.store.redeem_code(code)
    assert caught.value.reason == "used"


def test_store_code_expires_after_ten_minutes(
    sandbox: Sandbox, browser, clock: FakeClock
) -> None:
    page = reach_permissions(browser, authorize_url(sandbox))
    code = redirect_query(submit(browser, page, decision="allow"))["code"]

    clock.now += CODE_LIFETIME

    with pytest.raises(CodeRejectedError, match="expired") as caught:
        sandbox.store.redeem_code(code)
    assert caught.value.reason == "expired"
    assert code not in str(caught.value)


def test_sandbox_keeps_query_of_redirect_uri(sandbox: Sandbox, browser) -> None:
    uri = "http://localhost:8080/callback?flow=one"
    sandbox.register_redirect_uri(uri)
    page = reach_permissions(browser, authorize_url(sandbox, redirect_uri=uri))

    answer = submit(browser, page, decision="allow")

    assert answer.headers["Location"].startswith(uri + "&code=")
    assert redirect_query(answer)["flow"] == "one"


def test_sandbox_double_allow_issues_one_code(sandbox: Sandbox, browser) -> None:
    page = reach_permissions(browser, authorize_url(sandbox))
    submit(browser, page, decision="allow")

    again = submit(browser, page, decision="allow")

    assert again.status_code == 410
    assert "Location" not in again.headers
    assert len(sandbox.store.codes) == 1


def test_sandbox_unknown_session_shows_expired_page(sandbox: Sandbox, browser) -> None:
    response = browser.get(sandbox.origin + "/connect/nope/intro")

    assert response.status_code == 404
    assert "Open the authorization link" in response.text


def test_sandbox_pages_and_redirects_are_relative(sandbox: Sandbox, browser) -> None:
    # Relative links keep working behind a proxy that adds a path prefix.
    first = browser.get(authorize_url(sandbox), allow_redirects=False)
    intro = browser.get(authorize_url(sandbox))

    assert first.headers["Location"].startswith("../connect/")
    assert 'action="intro"' in intro.text


def test_register_redirect_uri_rejects_fragment(sandbox: Sandbox) -> None:
    with pytest.raises(ConfigurationError, match="fragment"):
        sandbox.register_redirect_uri("http://localhost:8080/callback#top")


def test_register_client_then_authorize_shows_its_name(
    sandbox: Sandbox, browser
) -> None:
    sandbox.register_client(
        "app-2", "s2", ["https://example.com/cb"], name="Fleet <Pro>"
    )

    page = browser.get(authorize_url(sandbox, client_id="app-2", redirect_uri=None))

    assert "Fleet &lt;Pro&gt; wants to connect" in page.text


def test_sandbox_never_logs_secret_or_whole_code(
    sandbox: Sandbox, browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smartcar_tutorial")
    sandbox.register_client("app-3", "top-secret-value", [DEMO_REDIRECT_URI])
    page = reach_permissions(browser, authorize_url(sandbox, client_id="app-3"))

    code = redirect_query(submit(browser, page, decision="allow"))["code"]

    assert "top-secret-value" not in caplog.text
    assert DEMO_CLIENT_SECRET not in caplog.text
    assert code not in caplog.text
    assert code[:4] + "…" in caplog.text
