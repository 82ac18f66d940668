"""A throwaway Jupyter server on a free loopback port, for checks.

``doctor`` uses it to prove that jupyter-server-proxy carries a whole flow
when the server has a hub's kind of base URL. The server runs in this
Python environment, in a temporary folder, with a random token, and stops
when the block ends:

    with running("/user/doctor/") as (url, token):
        requests.get(url + "api/status", headers={"Authorization": f"token {token}"})
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

START_SECONDS = 60


@contextmanager
def running(base_url: str) -> Iterator[tuple[str, str]]:
    """Run a Jupyter server on a free loopback port; yield its URL and token."""
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="smartcar-doctor-") as folder:
        port = _free_port()
        command = [sys.executable, "-m", "jupyter", "server", "--no-browser"]
        command += [
            f"--ServerApp.base_url={base_url}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": folder}
        with open(Path(folder) / "server.log", "wb") as log:
            server = subprocess.Popen(
                command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{port}{base_url}"
        try:
            _wait_until_serving(url, token, server)
            yield url, token
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)


def _wait_until_serving(url: str, token: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited ({server.returncode})")
        try:
            answer = requests.get(
                url + "api/status",
                headers={"Authorization": f"token {token}"},
                timeout=2,
            )
            if answer.ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the Jupyter server did not answer in {START_SECONDS} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
