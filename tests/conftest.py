"""Shared fixtures: a clean Smartcar environment for every test, and a sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chromium_helpers import CHROMIUM, install_chromium
from sandbox_helpers import FakeClock, LoopbackSession

from smartcar_tutorial.sandbox import Sandbox

DATA = Path(__file__).parent / "data"

SMARTCAR_VARIABLES = (
    "SMARTCAR_CLIENT_ID",
    "SMARTCAR_CLIENT_SECRET",
    "SMARTCAR_REDIRECT_URI",
    "SMARTCAR_CONNECT_ORIGIN",
    "SMARTCAR_AUTH_ORIGIN",
    "SMARTCAR_API_ORIGIN",
    # Where the kernel runs: tests choose it themselves (smartcar_tutorial.where).
    "SMARTCAR_TUTORIAL_PUBLIC_BASE",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_PUBLIC_URL",
    "JUPYTERHUB_USER",
    "BINDER_LAUNCH_HOST",
    "BINDER_REPO_URL",
    "BINDER_REF_URL",
    "BINDER_REQUEST",
    "BINDER_PERSISTENT_REQUEST",
)


@pytest.fixture(autouse=True)
def clean_smartcar_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's real credentials, and a hub's variables, out of tests."""
    for name in SMARTCAR_VARIABLES:
        # setenv first, so whatever a test sets is undone afterwards.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def auth_url_vectors() -> list[dict]:
    """URLs produced by Smartcar's Python SDK 6.19.1 for known inputs."""
    return json.loads((DATA / "auth-url-vectors.json").read_text())["vectors"]


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock the test moves by hand, for codes and tokens that expire."""
    return FakeClock()


@pytest.fixture
def loopback_sandbox(fake_clock: FakeClock):
    """A sandbox on 127.0.0.1 only, on a free port, on ``fake_clock``."""
    with Sandbox(clock=fake_clock, host="127.0.0.1") as server:
        yield server


@pytest.fixture
def http():
    """A session for loopback servers: no proxy, bounded requests."""
    with LoopbackSession() as session:
        yield session


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed first where it is missing and can be."""
    if not CHROMIUM.exists():
        problem = install_chromium()
        if problem is not None:
            pytest.skip(
                f"Chromium is not at {CHROMIUM} and cannot be installed: {problem}"
            )
    return CHROMIUM


@pytest.fixture(autouse=True)
def stop_servers_a_test_started():
    """Stop the servers steps.py keeps per kernel, so none outlives its test.

    A sandbox left on port 8081 in this process would otherwise stand in the
    way of every later notebook run and docs build.
    """
    yield
    from smartcar_tutorial import steps

    for registry in (steps._sandboxes, steps._callback_servers):
        for server in list(registry.values()):
            server.stop()
        registry.clear()
