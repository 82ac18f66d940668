"""The sandbox server: a local stand-in for Smartcar's three origins.

One server plays ``connect.smartcar.com`` (the consent pages),
``auth.smartcar.com/oauth/token`` and ``api.smartcar.com`` (the vehicle
API). It runs in a thread of the kernel, knows one demo app out of the
box, and keeps everything it issues in :attr:`Sandbox.store`.

    with Sandbox() as sandbox:
        client = AuthClient(sandbox.client_id, sandbox.client_secret,
                            redirect_uri=DEMO_REDIRECT_URI, mode="test",
                            connect_origin=sandbox.origin)
        url = client.get_auth_url(["read_odometer"], {"state": new_state()})
        # Smartcar's SDK: smartcar.config.AUTH_ORIGIN = sandbox.auth_origin,
        # smartcar.config.API_ORIGIN = sandbox.api_origin
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ..httpserver import LOOPBACK, BackgroundServer
from .app import SandboxHandler
from .store import SandboxStore

DEMO_CLIENT_ID = "sandbox-demo-client"
DEMO_CLIENT_SECRET = "sandbox-demo-secret"
DEMO_REDIRECT_URI = "http://localhost:8080/callback"
DEMO_APP_NAME = "Smartcar Tutorial Demo"


class Sandbox(BackgroundServer):
    """Serve Connect's pages on loopback, for offline runs of the tutorial.

    Args:
        port: The port to listen on; 0 picks a free one.
        clock: Returns the current time in seconds; tests inject a fake one
            to expire codes without waiting.
        host: The address to bind; loopback unless told otherwise.
    """

    def __init__(
        self,
        port: int = 0,
        clock: Callable[[], float] = time.time,
        host: str = LOOPBACK,
    ) -> None:
        super().__init__(SandboxHandler, port=port, host=host, name="sandbox")
        self.store = SandboxStore(clock)
        self.store.register_client(
            DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, [DEMO_REDIRECT_URI], DEMO_APP_NAME
        )

    @property
    def client_id(self) -> str:
        """The demo app's client id."""
        return DEMO_CLIENT_ID

    @property
    def client_secret(self) -> str:
        """The demo app's secret; it only works against this sandbox."""
        return DEMO_CLIENT_SECRET

    @property
    def origin(self) -> str:
        """Where Connect lives: pass it as ``AuthClient(connect_origin=…)``."""
        if self.host == LOOPBACK:
            return self.url
        # Bound to one address only: name it, so clients do not try another.
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def auth_origin(self) -> str:
        """The full token URL, for ``SMARTCAR_AUTH_ORIGIN``."""
        return self.origin + "/oauth/token"

    @property
    def api_origin(self) -> str:
        """Where the vehicle API lives, for ``SMARTCAR_API_ORIGIN``."""
        return self.origin

    def register_client(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: Iterable[str],
        name: str = "Demo app",
    ) -> None:
        """Register an app, as Smartcar's dashboard does.

        Args:
            client_id: The app's id; registering it again replaces it.
            client_secret: The app's secret; never shown or logged.
            redirect_uris: Every URI Connect may send the owner back to;
                the first is used when a URL gives no ``redirect_uri``.
            name: Shown on the consent pages.

        Raises:
            ConfigurationError: A redirect URI is not absolute or has a
                fragment.
        """
        self.store.register_client(client_id, client_secret, redirect_uris, name)

    def register_redirect_uri(self, uri: str, client_id: str = DEMO_CLIENT_ID) -> None:
        """Allow one more redirect URI for an app (the demo app by default).

        Connect compares redirect URIs exactly, port and path included, so
        a callback server on another port needs its URI registered here.

        Raises:
            ConfigurationError: The app is unknown, or the URI is not
                absolute or has a fragment.
        """
        self.store.add_redirect_uri(client_id, uri)
