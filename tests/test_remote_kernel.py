"""A kernel far from the browser: proxied redirects, per-user ports, the widget.

jupyter-server-proxy is stood in for by the headers it adds
(``X-Forwarded-Prefix``); ``test_hub.py`` and ``test_doctor.py`` go through
the real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from smartcar_tutorial import AuthClient, steps
from smartcar_tutorial.callback_server import CallbackServer
from smartcar_tutorial.display import FlowWidget
from smartcar_tutorial.errors import PortInUseError
from smartcar_tutorial.flow import PendingFlow
from smartcar_tutorial.ports import port_for_user
from smartcar_tutorial.sandbox import Sandbox

pytestmark = pytest.mark.localserver

ORIGIN = "https://hub.example.org"


@pytest.fixture
def on_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process is Bob's kernel on a JupyterHub."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/bob/")
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")


def walk_to_allow(browser: requests.Session, auth_url: str) -> requests.Response:
    """Go through the consent pages and press Allow; return the last answer."""
    page = browser.get(auth_url, timeout=5)
    for form in ({}, {"make": "TESLA"}, {"email": "o@example.com", "password": "pw"}):
        page = browser.post(page.url, data=form, timeout=5)
        assert page.ok, page.text[:300]
    return browser.post(
        page.url, data={"decision": "allow"}, allow_redirects=False, timeout=5
    )


def test_sandbox_reached_through_the_proxy_redirects_to_the_proxied_callback():
    with Sandbox(port=0) as sandbox:
        callback = "http://localhost:8080/callback"
        client = AuthClient(
            sandbox.client_id,
            sandbox.client_secret,
            redirect_uri=callback,
            mode="test",
            connect_origin=sandbox.origin,
        )
        with requests.Session() as browser:
            browser.trust_env = False
            browser.headers.update(
                {
                    "X-Forwarded-Prefix": f"/user/bob/proxy/{sandbox.port}",
                    "Origin": ORIGIN,
                }
            )
            url = client.get_auth_url(["read_odometer"], {"state": "s-1"})
            answer = walk_to_allow(browser, url)

    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{ORIGIN}/user/bob/proxy/8080/callback?code=")
    assert location.endswith("&state=s-1")


def test_sandbox_reached_directly_redirects_to_localhost_as_before():
    with Sandbox(port=0) as sandbox, requests.Session() as browser:
        browser.trust_env = False
        client = AuthClient(
            sandbox.client_id,
            sandbox.client_secret,
            redirect_uri="http://localhost:8080/callback",
            mode="test",
            connect_origin=sandbox.origin,
        )
        answer = walk_to_allow(browser, client.get_auth_url(["read_odometer"]))

    assert answer.headers["Location"].startswith("http://localhost:8080/callback?code=")


def test_login_through_the_proxy_redirects_to_the_proxied_sandbox():
    with CallbackServer("http://localhost:0/callback") as server:
        server.login_url = "http://localhost:8081/oauth/authorize?client_id=a"
        answer = requests.get(
            server.url + "/login",
            headers={
                "X-Forwarded-Prefix": f"/user/bob/proxy/{server.port}",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "hub.example.org",
            },
            allow_redirects=False,
            timeout=5,
        )

    assert answer.headers["Location"] == (
        f"{ORIGIN}/user/bob/proxy/8081/oauth/authorize?client_id=a"
    )


def test_callback_refuses_a_request_from_another_users_proxy(on_hub):
    with CallbackServer("http://localhost:0/callback") as server:
        flow = server.expect("s-1")
        url = f"{server.redirect_uri}?code=c&state=s-1"

        alices = requests.get(
            url, headers={"X-Forwarded-Prefix": "/user/alice/proxy/1"}, timeout=5
        )
        bobs = requests.get(
            url, headers={"X-Forwarded-Prefix": "/user/bob/proxy/1"}, timeout=5
        )

    assert alices.status_code == 403
    assert "another user" in alices.text
    assert bobs.status_code == 200
    assert flow.result is not None and flow.result.code == "c"


# Ports on a loopback that several users share ---------------------------------

SERVE_AS_ALICE = """
import time
from smartcar_tutorial.callback_server import CallbackServer
server = CallbackServer("http://localhost:0/callback").start()
print(server.port, flush=True)
time.sleep(60)
"""


@pytest.fixture
def alices_server() -> Iterator[int]:
    """Alice's callback server, in a process of hers; yields its port."""
    env = {**os.environ, "JUPYTERHUB_USER": "alice"}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_AS_ALICE],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield int(process.stdout.readline())
    finally:
        process.kill()
        process.wait(timeout=10)


def test_another_users_port_is_never_taken_over(alices_server, on_hub):
    with pytest.raises(PortInUseError):
        CallbackServer(f"http://localhost:{alices_server}/callback").start(
            take_over=True
        )

    health = requests.get(f"http://127.0.0.1:{alices_server}/health", timeout=5)
    assert health.json()["user"] == "alice"


def test_a_user_gets_a_port_of_their_own_when_the_wanted_one_is_taken(
    alices_server, on_hub, monkeypatch
):
    mine = port_for_user(alices_server)

    assert mine != alices_server
    assert port_for_user(alices_server) == mine, "the same in each of bob's kernels"
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    assert port_for_user(alices_server) == alices_server


def test_start_callback_server_on_a_hub_moves_off_another_users_port(
    alices_server, on_hub, monkeypatch
):
    monkeypatch.setattr(steps, "_user_ports", {})
    monkeypatch.setattr(steps, "_callback_servers", {})

    server = steps.start_callback_server(f"http://localhost:{alices_server}/callback")
    try:
        assert server.port != alices_server
        assert server.redirect_uri == f"http://localhost:{server.port}/callback"
    finally:
        server.stop()


# The widget on a remote kernel ----------------------------------------------


def test_widget_on_a_hub_links_to_the_sandbox_through_the_proxy(on_hub):
    auth_url = "http://localhost:8081/oauth/authorize?client_id=a&state=s-1"
    widget = FlowWidget(PendingFlow("s-1", auth_url))
    try:
        assert 'href="/user/bob/proxy/8081/oauth/authorize?client_id=a' in (
            widget.link.value
        )
        assert widget.message.value == ""
        assert widget.paste_box.selected_index is None
    finally:
        widget.close()


def test_widget_on_a_hub_explains_the_paste_box_for_smartcar(on_hub):
    auth_url = (
        "https://connect.smartcar.com/oauth/authorize?client_id=a&state=s-1"
        "&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback"
    )
    widget = FlowWidget(PendingFlow("s-1", auth_url))
    try:
        assert 'href="https://connect.smartcar.com/oauth/authorize' in widget.link.value
        assert "fails to load" in widget.message.value
        assert "http://localhost:8080/callback" in widget.message.value
        assert widget.paste_box.selected_index == 0

        widget.paste.value = "http://localhost:8080/callback?code=pasted&state=s-1"
        widget.use_pasted.click()
        assert widget.code.value == "pasted"
    finally:
        widget.close()


def test_widget_on_a_laptop_says_nothing_of_proxies():
    auth_url = "https://connect.smartcar.com/oauth/authorize?client_id=a&state=s-1"
    widget = FlowWidget(PendingFlow("s-1", auth_url))
    try:
        assert widget.message.value == ""
        assert widget.paste_box.selected_index is None
    finally:
        widget.close()


def test_live_smartcar_on_a_hub_keeps_the_registered_redirect_uri(
    alices_server, on_hub, monkeypatch
):
    registered = f"http://localhost:{alices_server}/callback"
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "my-app")
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", "my-secret")
    monkeypatch.setenv("SMARTCAR_REDIRECT_URI", registered)
    monkeypatch.setattr(steps, "_user_ports", {})
    monkeypatch.setattr(steps, "_callback_servers", {})

    redone = steps.redo_steps()
    try:
        assert redone.smartcar.live
        assert redone.server.port != alices_server  # Alice's; Bob listens elsewhere
        # Smartcar redirects only to the registered URI; the paste box brings
        # its answer back to a remote kernel.
        assert redone.client.redirect_uri == registered
        assert "redirect_uri=http%3A%2F%2Flocalhost" in redone.client.get_auth_url([])
    finally:
        redone.server.stop()
