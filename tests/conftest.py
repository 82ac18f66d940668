"""Shared fixtures: a clean Smartcar environment for every test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

SMARTCAR_VARIABLES = (
    "SMARTCAR_CLIENT_ID",
    "SMARTCAR_CLIENT_SECRET",
    "SMARTCAR_REDIRECT_URI",
    "SMARTCAR_CONNECT_ORIGIN",
)


@pytest.fixture(autouse=True)
def clean_smartcar_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's real credentials out of every test."""
    for name in SMARTCAR_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def auth_url_vectors() -> list[dict]:
    """URLs produced by Smartcar's Python SDK 6.19.1 for known inputs."""
    return json.loads((DATA / "auth-url-vectors.json").read_text())["vectors"]
