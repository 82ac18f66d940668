"""`python -m smartcar_tutorial serve` runs the guide's app as a program."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.localserver


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SMARTCAR_TUTORIAL_AUTOPILOT"}
    return subprocess.run(
        [sys.executable, "-m", "smartcar_tutorial", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_serve_once_with_approval_prints_a_code_and_exits_0():
    done = serve("--once", "--autopilot", "approve", "--port", str(free_port()))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == {"code", "state"}
    assert len(answer["code"]) >= 16
    assert "/login" in done.stderr


def test_serve_once_with_denial_prints_access_denied_and_exits_1():
    done = serve("--once", "--autopilot", "deny", "--port", str(free_port()))
    assert done.returncode == 1, done.stderr
    answer = json.loads(done.stdout)
    assert answer["error"] == "access_denied"
    assert answer["error_description"]
    assert answer["state"]


def test_serve_once_times_out_with_a_named_error():
    port = free_port()
    done = serve("--once", "--timeout", "1", "--port", str(port))
    assert done.returncode == 3
    assert (
        f"error: no answer reached http://localhost:{port}/callback within 1 s. "
        f"Open http://localhost:{port}/login again and go through Connect to the "
        "end (Allow or Deny), or give serve a larger --timeout."
    ) in done.stderr
    assert "wait()" not in done.stderr, "a Python hint for a shell user"
    assert done.stdout == ""


def test_serve_reports_a_busy_port_by_number():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = serve("--once", "--autopilot", "approve", "--port", str(port))
    assert done.returncode == 4
    assert str(port) in done.stderr


def test_serve_on_a_hub_prints_the_proxy_address_of_login():
    port = free_port()
    env = {
        "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
        "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/user/alice/",
    }
    done = subprocess.run(
        [sys.executable, "-m", "smartcar_tutorial", "serve", "--once"]
        + ["--autopilot", "approve", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    assert f"https://hub.example.org/user/alice/proxy/{port}/login" in done.stderr
    assert f"localhost:{port}/login" not in done.stderr
