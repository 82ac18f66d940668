"""The simulated owner walks the sandbox's pages to a real callback target."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from sandbox_helpers import CallbackTarget

from smartcar_tutorial import AuthClient, ConfigurationError
from smartcar_tutorial.httpserver import BackgroundServer, QuietHandler
from smartcar_tutorial.sandbox import OwnerWalkError, Sandbox, SimulatedOwner

pytestmark = pytest.mark.localserver


class _LoopHandler(QuietHandler):
    def do_GET(self) -> None:
        self.send_redirect("/again")


@pytest.fixture
def sandbox():
    with Sandbox() as server:
        yield server


@pytest.fixture
def target():
    with CallbackTarget() as server:
        yield server


def auth_url(sandbox: Sandbox, target: CallbackTarget, **options: object) -> str:
    sandbox.register_redirect_uri(target.redirect_uri)
    client = AuthClient(
        sandbox.client_id,
        sandbox.client_secret,
        redirect_uri=target.redirect_uri,
        mode="test",
        connect_origin=sandbox.origin,
    )
    return client.get_auth_url(["read_odometer"], {"state": "st-1", **options})


def test_owner_approve_reaches_callback_with_code(sandbox, target) -> None:
    response = SimulatedOwner("approve").walk(auth_url(sandbox, target))

    assert response.status_code == 200
    assert "Callback received" in response.text
    query = target.query()
    assert query["state"] == "st-1"
    assert sandbox.store.codes[query["code"]].scope == ("read_odometer",)


def test_owner_deny_reaches_callback_with_access_denied(sandbox, target) -> None:
    SimulatedOwner("deny").walk(auth_url(sandbox, target))

    query = target.query()
    assert query["error"] == "access_denied"
    assert query["state"] == "st-1"
    assert sandbox.store.codes == {}


def test_owner_picks_the_brand_it_is_given(sandbox, target) -> None:
    SimulatedOwner(make="kia").walk(auth_url(sandbox, target))

    assert sandbox.store.codes[target.query()["code"]].make == "KIA"


def test_owner_follows_make_bypass(sandbox, target) -> None:
    SimulatedOwner().walk(auth_url(sandbox, target, make_bypass="TESLA"))

    assert sandbox.store.codes[target.query()["code"]].make == "TESLA"


def test_owner_unknown_brand_raises(sandbox, target) -> None:
    with pytest.raises(OwnerWalkError, match="no brand 'DeLorean'"):
        SimulatedOwner(make="DeLorean").walk(auth_url(sandbox, target))
    assert target.paths == []


def test_owner_test_account_gets_its_error(sandbox, target) -> None:
    owner = SimulatedOwner(email="smartcar@invalid-subscription.com")

    owner.walk(auth_url(sandbox, target))

    assert target.query()["error"] == "invalid_subscription"


def test_owner_in_background_reaches_callback(sandbox, target) -> None:
    thread = SimulatedOwner().walk_in_background(auth_url(sandbox, target))

    thread.join(timeout=10)

    assert not thread.is_alive()
    assert thread.daemon
    assert "code" in target.query()


def test_owner_in_background_logs_failure(
    sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    url = sandbox.origin + "/oauth/authorize?response_type=code&client_id=nobody"

    SimulatedOwner().walk_in_background(url).join(timeout=10)

    assert "could not finish Connect" in caplog.text
    assert "nobody" in caplog.text


def test_owner_error_page_raises_with_its_text(sandbox) -> None:
    url = sandbox.origin + "/oauth/authorize?response_type=code&client_id=nobody"

    with pytest.raises(OwnerWalkError, match="error page \\(400\\).*'nobody'"):
        SimulatedOwner().walk(url)


def test_owner_gives_up_on_endless_redirects() -> None:
    with (
        BackgroundServer(_LoopHandler, name="loop") as loop,
        pytest.raises(OwnerWalkError, match="steps"),
    ):
        SimulatedOwner(timeout=5).walk(loop.url + "/start")


def test_owner_gives_up_when_server_never_answers() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/oauth/authorize"
        started = time.monotonic()

        with pytest.raises(OwnerWalkError, match="could not open"):
            SimulatedOwner(timeout=0.5).walk(url)

    assert time.monotonic() - started < 3


def test_owner_rejects_unknown_decision() -> None:
    with pytest.raises(ConfigurationError, match="'approve', 'deny' or 'exit'"):
        SimulatedOwner("maybe")


def test_owner_never_logs_whole_code(
    sandbox, target, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smartcar_tutorial.sandbox")

    SimulatedOwner().walk(auth_url(sandbox, target))

    assert target.query()["code"] not in caplog.text
