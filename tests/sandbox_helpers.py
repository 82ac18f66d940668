"""Helpers for the sandbox's tests: a movable clock, a callback target, codes.

Imported by the test modules; the fixtures built on them live in
``conftest.py``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from smartcar_tutorial.httpserver import BackgroundServer, QuietHandler
from smartcar_tutorial.sandbox import DEMO_CLIENT_ID, DEMO_REDIRECT_URI, Sandbox
from smartcar_tutorial.sandbox.store import DONE

#: Seconds any one request of a test may take.
REQUEST_TIMEOUT = 5.0


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class LoopbackSession(requests.Session):
    """A browser for loopback servers: no proxy, every request bounded."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False

    def request(self, *args, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return super().request(*args, **kwargs)


class _RecordingHandler(QuietHandler):
    def do_GET(self) -> None:
        self.server.owner.paths.append(self.path)
        self.send_html(200, "<p>Callback received</p>")


class CallbackTarget(BackgroundServer):
    """Stands in for an app's redirect URI: records every request path."""

    def __init__(self) -> None:
        super().__init__(_RecordingHandler, host="127.0.0.1", name="callback target")
        self.paths: list[str] = []

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def query(self) -> dict[str, str]:
        """The query of the one redirect that arrived."""
        assert len(self.paths) == 1, self.paths
        pairs = parse_qs(urlsplit(self.paths[0]).query)
        return {name: values[0] for name, values in pairs.items()}


def issue_code(
    sandbox: Sandbox,
    scope: tuple[str, ...] = ("read_vehicle_info", "read_odometer"),
    *,
    make: str = "TESLA",
    mode: str = "test",
    client_id: str = DEMO_CLIENT_ID,
    redirect_uri: str = DEMO_REDIRECT_URI,
    redirect_uri_sent: bool = True,
) -> str:
    """Return a code as if the owner had pressed Allow, without the pages.

    For tests where the walk is not the point; test_sandbox.py and
    test_owner.py walk the pages themselves.
    """
    store = sandbox.store
    session = store.open_session(
        store.get_client(client_id),
        redirect_uri,
        scope,
        "st",
        mode,
        make,
        redirect_uri_sent=redirect_uri_sent,
    )
    store.advance(session, session.step, DONE, email="owner@example.com")
    return store.issue_code(session).code
