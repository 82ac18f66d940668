"""The callback server hands each redirect to the flow waiting for its state."""

from __future__ import annotations

import _thread
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from smartcar_tutorial import (
    AuthorizationDeniedError,
    AuthorizationError,
    AuthorizationResult,
    CallbackTimeoutError,
    ConfigurationError,
    PortInUseError,
    Sandbox,
    SandboxMovedWarning,
    steps,
)
from smartcar_tutorial.callback_server import CallbackServer
from smartcar_tutorial.flow import PendingFlow

pytestmark = pytest.mark.localserver

CODE = "c0de-7f3a9b21-5e6d-4c8f-a1b2-secretpart"


OTHER_KERNEL = """
import sys
from smartcar_tutorial.callback_server import CallbackServer
server = CallbackServer("http://localhost:0/callback").start()
flow = server.expect("old-state")
flow.subscribe_notices(lambda notice: print("NOTICE", notice, flush=True))
print(server.port, flush=True)
sys.stdin.read()
"""


class OtherKernel:
    """A callback server in another process, as another notebook's kernel."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", OTHER_KERNEL],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = self.process.pid
        self.port = int(self.process.stdout.readline())
        self.redirect_uri = f"http://localhost:{self.port}/callback"

    def read_notice(self) -> str:
        return self.process.stdout.readline()

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def other_kernel():
    kernel = OtherKernel()
    yield kernel
    kernel.close()


@pytest.fixture
def server():
    with CallbackServer("http://localhost:0/callback") as server:
        yield server


def answer(server: CallbackServer, **params: str) -> requests.Response:
    """Do what the browser does after Connect: GET the redirect URI + answer."""
    return requests.get(
        f"{server.redirect_uri}?{urlencode(params)}", allow_redirects=False, timeout=5
    )


def answer_later(
    server: CallbackServer, delay: float = 0.2, **params: str
) -> tuple[threading.Thread, list[requests.Response]]:
    """Answer from another thread after ``delay``, as the browser would."""
    responses: list[requests.Response] = []

    def send() -> None:
        time.sleep(delay)
        responses.append(answer(server, **params))

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, responses


# The answer arrives -------------------------------------------------------


def test_callback_server_hands_the_code_to_the_waiting_flow(server):
    flow = server.expect("state-1", "https://connect.example/auth")
    browser, responses = answer_later(server, code=CODE, state="state-1")

    result = flow.wait(timeout=5)

    browser.join(timeout=5)

    assert result.code == CODE and result.state == "state-1"
    assert flow.done and flow.result is result
    page = responses[0]
    assert page.status_code == 200
    assert "Code received" in page.text
    assert "go back to the notebook" in page.text.lower()


def test_callback_server_page_shows_only_a_shortened_code(server):
    server.expect("state-1")

    page = answer(server, code=CODE, state="state-1")

    assert "c0de…" in page.text
    assert CODE not in page.text
    assert "secretpart" not in page.text


def test_callback_server_never_logs_the_full_code(server, caplog):
    caplog.set_level(logging.DEBUG, logger="smartcar_tutorial")
    server.expect("state-1")

    answer(server, code=CODE, state="state-1")

    assert "callback received" in caplog.text.lower()
    assert CODE not in caplog.text


def test_callback_server_deny_makes_wait_raise_denied(server):
    flow = server.expect("state-1")
    page = answer(
        server,
        error="access_denied",
        error_description="User denied access to application.",
        state="state-1",
    )

    with pytest.raises(AuthorizationDeniedError, match="pressed Deny"):
        flow.wait(timeout=1)
    assert page.status_code == 200
    assert "Connect sent an error" in page.text
    assert "pressed Deny" in page.text
    assert "go back to the notebook" in page.text.lower()


def test_callback_server_success_and_error_pages_differ(server):
    server.expect("ok")
    server.expect("no")

    success = answer(server, code=CODE, state="ok").text
    error = answer(server, error="no_vehicles", state="no").text

    assert "<title>Code received</title>" in success
    assert "<title>Connect sent an error</title>" in error
    assert "class='success'" in success and "class='error'" in error


def test_callback_server_escapes_markup_from_the_request(server):
    flow = server.expect("state-1")

    page = answer(
        server,
        error="server_error",
        error_description="<script>alert('x')</script>",
        state="state-1",
        make="<b>TESLA</b>",
    )

    assert "<script>" not in page.text and "<b>" not in page.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page.text
    assert "&lt;b&gt;TESLA&lt;/b&gt;" in page.text
    with pytest.raises(AuthorizationError):
        flow.wait(timeout=1)


def test_callback_server_keeps_flows_apart_by_state(server):
    first = server.expect("state-a")
    second = server.expect("state-b")

    answer(server, code="code-b", state="state-b")

    assert second.wait(timeout=1).code == "code-b"
    assert not first.done
    assert server.pending() == [first]


def test_callback_server_redirect_uri_with_its_own_query():
    with CallbackServer("http://localhost:0/callback?app=demo") as server:
        assert server.redirect_uri.endswith(f":{server.port}/callback?app=demo")
        assert server.port != 0
        flow = server.expect("state-1")

        page = requests.get(
            f"{server.redirect_uri}&code={CODE}&state=state-1", timeout=5
        )

    assert page.status_code == 200
    result = flow.wait(timeout=1)
    assert result.code == CODE
    assert result.extras["app"] == "demo"


# Answers that must not complete a flow ------------------------------------


@pytest.mark.parametrize(
    "params",
    [{"code": CODE, "state": "someone-else"}, {"code": CODE}],
    ids=["wrong-state", "missing-state"],
)
def test_callback_server_rejects_an_unmatched_state(server, caplog, params):
    flow = server.expect("state-1")

    page = answer(server, **params)

    assert page.status_code == 400
    assert "did not match" in page.text
    assert CODE not in page.text
    assert not flow.done
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "matches no flow" in warnings[0].getMessage()


def test_callback_server_escapes_an_unmatched_state(server):
    page = answer(server, code=CODE, state="<img src=x onerror=alert(1)>")

    assert page.status_code == 400
    assert "<img" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_callback_server_rejects_an_answer_without_code_or_error(server):
    flow = server.expect("state-1")

    page = answer(server, state="state-1")

    assert page.status_code == 400
    assert "neither a code nor an error" in page.text
    assert not flow.done


def test_callback_server_keeps_the_first_answer_of_a_repeated_redirect(server):
    flow = server.expect("state-1")
    answer(server, code="first-code", state="state-1")

    again = answer(server, code="second-code", state="state-1")
    denied = answer(server, error="access_denied", state="state-1")

    assert flow.wait(timeout=1).code == "first-code"
    for page in (again, denied):
        assert page.status_code == 200
        assert "Code received" in page.text
        assert "keeps the first one" in page.text
        assert "seco" not in page.text


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/favicon.ico", 404),
        ("HEAD", "/callback", 200),
        ("OPTIONS", "/callback", 204),
        ("GET", "/elsewhere", 404),
        ("GET", "/callback/extra", 404),
        ("POST", "/callback", 501),
    ],
)
def test_callback_server_probes_never_consume_an_answer(server, method, path, status):
    flow = server.expect("state-1")
    url = f"http://localhost:{server.port}{path}?code={CODE}&state=state-1"

    response = requests.request(method, url, allow_redirects=False, timeout=5)

    assert response.status_code == status
    assert not flow.done
    assert answer(server, code=CODE, state="state-1").status_code == 200
    assert flow.done


# Other routes -------------------------------------------------------------


def test_callback_server_login_redirects_to_the_login_url(server):
    server.login_url = "https://connect.example/oauth/authorize?client_id=x"

    response = requests.get(
        f"http://localhost:{server.port}/login", allow_redirects=False, timeout=5
    )

    assert response.status_code == 302
    assert response.headers["Location"] == server.login_url


def test_callback_server_login_explains_when_no_link_is_set(server):
    response = requests.get(f"http://localhost:{server.port}/login", timeout=5)

    assert response.status_code == 404
    assert "Step 1 sets where /login sends you" in response.text


def test_callback_server_health_names_the_service(server):
    health = requests.get(f"http://localhost:{server.port}/health", timeout=5).json()

    assert health["service"] == "smartcar-tutorial-callback-server"
    assert health["redirect_uri"] == server.redirect_uri
    assert health["pid"] == os.getpid()


# Lifecycle and configuration ----------------------------------------------


def test_callback_server_stop_twice_is_safe_and_frees_the_port():
    server = CallbackServer("http://localhost:0/callback").start()
    port = server.port
    answer(server, code=CODE, state="nobody")

    server.stop()
    server.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://localhost:{port}/health", timeout=2)
    with CallbackServer(f"http://localhost:{port}/callback") as again:
        assert requests.get(f"{again.url}/health", timeout=5).ok


def test_callback_server_busy_port_raises_naming_the_port():
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        server = CallbackServer(f"http://localhost:{port}/callback")

        with pytest.raises(PortInUseError, match=str(port)):
            server.start()
    assert not server.running


@pytest.mark.parametrize(
    "uri",
    [
        "https://example.com/callback",
        "localhost:8080/callback",
        "http://localhost:8080/callback#done",
        "http://localhost:99999/callback",
    ],
)
def test_callback_server_rejects_an_unusable_redirect_uri(uri):
    with pytest.raises(ConfigurationError, match="redirect URI"):
        CallbackServer(uri)


def test_callback_server_expect_needs_a_state(server):
    with pytest.raises(ConfigurationError, match="new_state"):
        server.expect("")


# PendingFlow --------------------------------------------------------------


def test_pending_flow_wait_times_out_naming_the_redirect_uri(server):
    flow = server.expect("state-1")

    started = time.monotonic()
    with pytest.raises(CallbackTimeoutError) as info:
        flow.wait(timeout=0.3)

    assert time.monotonic() - started < 2
    message = str(info.value)
    assert repr(server.redirect_uri) in message
    assert "0.3 s" in message
    assert "Open the link again" in message


def test_pending_flow_wait_lets_keyboard_interrupt_through():
    flow = PendingFlow("state-1")
    # interrupt_main() only sets a flag: a wait that never wakes would miss it.
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        flow.wait(timeout=10)

    assert time.monotonic() - started < 2
    timer.join()


@pytest.mark.parametrize("timeout", [-1, float("nan"), None])
def test_pending_flow_wait_rejects_an_unusable_timeout(timeout):
    with pytest.raises(ConfigurationError, match="timeout="):
        PendingFlow("state-1").wait(timeout=timeout)


def test_pending_flow_first_result_wins():
    flow = PendingFlow("state-1")

    assert flow.complete(AuthorizationResult(code="one", state="state-1"))
    assert not flow.complete(AuthorizationResult(code="two", state="state-1"))

    assert flow.wait(timeout=0).code == "one"


def test_pending_flow_notifies_subscribers_from_the_server_thread(server):
    flow = server.expect("state-1")
    seen: list[tuple[str, str]] = []
    flow.subscribe(lambda r: seen.append((r.code, threading.current_thread().name)))

    answer(server, code=CODE, state="state-1")

    assert seen and seen[0][0] == CODE
    assert seen[0][1] != threading.current_thread().name
    late: list[str] = []
    flow.subscribe(lambda r: late.append(r.code))
    assert late == [CODE]


def test_pending_flow_survives_a_failing_subscriber(server, caplog):
    flow = server.expect("state-1")
    seen: list[str] = []
    flow.subscribe(lambda r: 1 / 0)
    flow.subscribe(lambda r: seen.append(r.code))

    page = answer(server, code=CODE, state="state-1")

    assert page.status_code == 200
    assert seen == [CODE]
    assert "subscriber" in caplog.text


# Addresses and busy ports -------------------------------------------------


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("address", ["127.0.0.1", "[::1]"])
def test_callback_server_answers_localhost_over_ipv4_and_ipv6(server, address):
    if address == "[::1]" and not _ipv6_loopback_available():
        pytest.skip("this machine has no IPv6 loopback")
    flow = server.expect("state-1")

    page = requests.get(
        f"http://{address}:{server.port}/callback?code=c-1&state=state-1", timeout=5
    )

    assert page.status_code == 200
    assert flow.result.code == "c-1"


def test_callback_server_listens_on_loopback_only(server):
    assert set(server.addresses) <= {"127.0.0.1", "::1"}
    assert "127.0.0.1" in server.addresses


def test_busy_port_error_names_our_own_server_in_another_kernel(other_kernel):
    second = CallbackServer(other_kernel.redirect_uri)

    with pytest.raises(PortInUseError) as info:
        second.start()

    message = str(info.value)
    assert str(other_kernel.port) in message
    assert "smartcar-tutorial callback server" in message
    assert f"process {other_kernel.pid}" in message
    assert "Shut that kernel down" in message
    assert "take_over=True" in message
    assert not second.running


def test_starting_a_second_server_in_the_same_kernel_says_to_reuse_it(server):
    with pytest.raises(PortInUseError, match="This kernel already runs"):
        CallbackServer(server.redirect_uri).start(take_over=True)
    assert server.running


def test_busy_port_error_for_a_foreign_program_says_how_to_find_it():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortInUseError) as info:
            CallbackServer(f"http://localhost:{port}/callback").start()
    assert f"port {port}" in str(info.value)
    assert f"lsof -i :{port}" in str(info.value)


def test_sandbox_on_a_taken_port_moves_and_says_where():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.warns(SandboxMovedWarning) as warned:
            sandbox = steps.start_sandbox(port)

    assert sandbox.port != port
    assert str(warned[0].message) == (
        f"Port {port} is held by another program, so this notebook's sandbox "
        f"listens on {sandbox.origin} instead; its links and its token endpoint "
        "use that address."
    )
    health = requests.get(sandbox.origin + "/health", timeout=5).json()
    assert health["origin"] == sandbox.origin, "the URLs it serves follow it"


def test_sandbox_on_another_kernels_port_names_that_sandbox():
    with Sandbox(port=0) as theirs, pytest.warns(SandboxMovedWarning) as warned:
        port, origin = theirs.port, theirs.origin
        ours = steps.start_sandbox(port)

    assert ours.port != port
    assert f"the smartcar-tutorial sandbox for {origin}" in str(warned[0].message)


def test_refused_state_is_reported_to_the_waiting_flow(server):
    flow = server.expect("state-1")
    notices: list[str] = []
    flow.subscribe_notices(notices.append)

    answer(server, code="forged", state="not-yours")

    assert len(notices) == 1 and "refused" in notices[0]
    assert not flow.done


# Moving from one notebook to the next ---------------------------------------


def test_take_over_stops_another_kernels_server_and_tells_its_flows(other_kernel):
    with CallbackServer(other_kernel.redirect_uri).start(take_over=True) as newer:
        assert newer.running and newer.port == other_kernel.port
        assert f"process {other_kernel.pid}" in (newer.took_over_from or "")
        assert "took the port over" in repr(newer)
        assert "took port" in other_kernel.read_notice()

        flow = newer.expect("new-state")
        answer(newer, code="c-new", state="new-state")
        assert flow.result.code == "c-new"


def test_handover_needs_the_packages_own_header(server):
    page = requests.post(f"{server.url}/handover", timeout=5)

    assert page.status_code != 202
    assert server.running


def test_deny_then_allow_through_the_same_link_gives_the_code(server):
    flow = server.expect("state-1")
    answer(server, error="access_denied", state="state-1")
    with pytest.raises(AuthorizationDeniedError):
        flow.wait(timeout=1)

    page = answer(server, code=CODE, state="state-1")

    assert "Code received" in page.text
    assert flow.wait(timeout=1).code == CODE


def test_a_code_is_never_replaced_by_a_later_error(server):
    flow = server.expect("state-1")
    answer(server, code=CODE, state="state-1")

    answer(server, error="access_denied", state="state-1")

    assert flow.wait(timeout=1).code == CODE
