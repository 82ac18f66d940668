"""`python -m smartcar_tutorial sandbox` runs the sandbox as a program."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from sandbox_helpers import CallbackTarget

from smartcar_tutorial.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimulatedOwner

pytestmark = pytest.mark.localserver

STARTUP_TIMEOUT = 30.0


class RunningSandbox:
    """The command in a subprocess, its output read by background threads."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            command("--port", "0", *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        self.exports: dict[str, str] = {}
        self.lines: list[str] = []
        self._stdout: queue.Queue[str] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            self._stdout.put(line)
        self._stdout.put("")  # end of output

    def _read_stderr(self) -> None:
        self._stderr.extend(self.process.stderr)

    def wait_for_exports(self) -> None:
        """Read the banner until every export line has arrived."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "SMARTCAR_REDIRECT_URI" not in self.exports:
            line = self._stdout.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line, "the sandbox exited early: " + "".join(self._stderr)
            self.lines.append(line)
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                self.exports[name] = value

    def stop(self) -> tuple[int, str, str]:
        """Stop it as a service manager would; return status, stdout, stderr."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        while line := self._stdout.get(timeout=10):
            self.lines.append(line)
        for reader in self._readers:
            reader.join(timeout=10)
        return self.process.returncode, "".join(self.lines), "".join(self._stderr)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "smartcar_tutorial", "sandbox", *args]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SMARTCAR_")}


@contextmanager
def running_sandbox(*args: str) -> Iterator[RunningSandbox]:
    """Start the command on a free port and wait for its export lines."""
    sandbox = RunningSandbox(*args)
    try:
        sandbox.wait_for_exports()
        yield sandbox
    finally:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait(timeout=10)


def test_sandbox_command_prints_origins_and_serves_until_stopped(http) -> None:
    with running_sandbox() as sandbox:
        origin = sandbox.exports["SMARTCAR_CONNECT_ORIGIN"]
        health = http.get(origin + "/health").json()
        status, out, err = sandbox.stop()

    assert health == {"service": "smartcar-tutorial-sandbox", "origin": origin}
    assert origin.startswith("http://localhost:")
    assert sandbox.exports["SMARTCAR_AUTH_ORIGIN"] == origin + "/oauth/token"
    assert sandbox.exports["SMARTCAR_API_ORIGIN"] == origin
    assert sandbox.exports["SMARTCAR_CLIENT_ID"] == DEMO_CLIENT_ID
    assert sandbox.exports["SMARTCAR_CLIENT_SECRET"] == DEMO_CLIENT_SECRET
    assert "demo-only" in out
    assert "Sandbox stopped" in out
    assert status == 0, err


def test_sandbox_command_accepts_a_registered_app(http) -> None:
    with (
        CallbackTarget() as target,
        running_sandbox(
            "--register", f"my-app:my-very-secret:{target.redirect_uri}"
        ) as sandbox,
    ):
        origin = sandbox.exports["SMARTCAR_CONNECT_ORIGIN"]
        url = (
            f"{origin}/oauth/authorize?response_type=code&client_id=my-app"
            f"&redirect_uri={target.redirect_uri}&scope=read_odometer&mode=test"
        )
        SimulatedOwner().walk(url)
        code = parse_qs(urlsplit(target.paths[0]).query)["code"][0]
        token = http.post(
            sandbox.exports["SMARTCAR_AUTH_ORIGIN"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": target.redirect_uri,
            },
            auth=("my-app", "my-very-secret"),
        )
        status, out, err = sandbox.stop()

    assert token.status_code == 200, token.text
    assert "'my-app'" in out
    assert "my-very-secret" not in out + err
    assert code not in err
    assert token.json()["access_token"] not in err
    assert status == 0


def test_sandbox_command_help_says_what_a_restart_forgets() -> None:
    done = subprocess.run(
        command("--help"), capture_output=True, text=True, timeout=30, env=clean_env()
    )

    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "State lives in memory only" in text
    for forgotten in ("code", "access token", "refresh token", "--register"):
        assert forgotten in text
    assert "CLIENT_ID:SECRET:REDIRECT_URI" in text


def test_sandbox_command_rejects_malformed_register_without_echoing_it() -> None:
    done = subprocess.run(
        command("--port", "0", "--register", "app-only:leaky-secret"),
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(),
    )

    assert done.returncode == 2
    assert "CLIENT_ID:SECRET:REDIRECT_URI" in done.stderr
    assert "leaky-secret" not in done.stderr


def test_sandbox_command_reports_a_busy_port_by_number() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = subprocess.run(
            command("--port", str(port)),
            capture_output=True,
            text=True,
            timeout=30,
            env=clean_env(),
        )

    assert done.returncode == 4
    assert str(port) in done.stderr
