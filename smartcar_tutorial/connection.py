"""Where the flow runs: Smartcar itself, or the offline sandbox.

With an app's credentials in the SDK's own environment variables
(``SMARTCAR_CLIENT_ID``, ``SMARTCAR_CLIENT_SECRET``, ``SMARTCAR_REDIRECT_URI``)
the flow goes to Smartcar; without them, to the sandbox in this kernel.

    smartcar = use_smartcar()
    client = smartcar.auth_client(mode="test")
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from .auth_url import AuthClient
from .errors import ConfigurationError

logger = logging.getLogger(__name__)

CONNECT_ORIGIN = "https://connect.smartcar.com"
TOKEN_URL = "https://auth.smartcar.com/oauth/token"
API_ORIGIN = "https://api.smartcar.com"
DEFAULT_REDIRECT_URI = "http://localhost:8080/callback"


@dataclass(frozen=True)
class Connection:
    """An app's credentials and where Connect, tokens and the API live.

    Attributes:
        client_id: The app's id.
        client_secret: The app's secret; never shown, not even in the repr.
        redirect_uri: Where Connect sends the owner back; the kernel's
            callback server listens on its port and path.
        connect_origin: Where the consent pages live.
        token_url: The token endpoint (Step 4).
        api_origin: Where the vehicle API lives.
        sandbox: The sandbox serving all three, or None for Smartcar.
        source: Where the credentials came from, in words.
    """

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    connect_origin: str
    token_url: str
    api_origin: str
    sandbox: object | None = field(default=None, repr=False)
    source: str = ""

    @property
    def live(self) -> bool:
        """True when the flow goes to Smartcar rather than the sandbox."""
        return self.sandbox is None

    def auth_client(self, mode: str = "test") -> AuthClient:
        """Return an :class:`AuthClient` for this app, pointed at Connect."""
        return AuthClient(
            self.client_id,
            self.client_secret,
            redirect_uri=self.redirect_uri,
            mode=mode,
            connect_origin=self.connect_origin,
        )

    def configure_sdk(self) -> None:
        """Point Smartcar's Python SDK (``smartcar.config``) at these origins.

        With Smartcar itself this restores the SDK's defaults; with the
        sandbox, the SDK's own calls reach it unmodified.
        """
        import smartcar.config  # Smartcar's SDK, needed only here

        smartcar.config.CONNECT_ORIGIN = self.connect_origin
        smartcar.config.AUTH_ORIGIN = self.token_url
        smartcar.config.API_ORIGIN = self.api_origin

    def __repr__(self) -> str:
        where = "Smartcar" if self.live else "the offline sandbox"
        return (
            f"Connection to {where}: Connect at {self.connect_origin}, "
            f"app {self.client_id!r} ({self.source}), "
            f"redirect URI {self.redirect_uri!r}"
        )


def use_smartcar(
    client_id: str | None = None,
    redirect_uri: str | None = None,
    *,
    sandbox: bool | None = None,
) -> Connection:
    """Choose where the flow runs: Smartcar with your app, or the sandbox.

    Args:
        client_id: Your app's id; falls back to ``SMARTCAR_CLIENT_ID``. With
            neither, the sandbox and its demo app are used.
        redirect_uri: Falls back to ``SMARTCAR_REDIRECT_URI``, then to
            ``http://localhost:8080/callback``.
        sandbox: Force the sandbox (True) or Smartcar (False).

    The secret is only read from ``SMARTCAR_CLIENT_SECRET`` (the form from
    :func:`~smartcar_tutorial.credentials.credentials_form` sets it), so it
    never has to be typed into a cell that a saved notebook keeps.

    Raises:
        ConfigurationError: The secret is missing, or the redirect URI cannot
            reach a server in this kernel.
    """
    client_id = client_id or os.environ.get("SMARTCAR_CLIENT_ID") or None
    redirect_uri = (
        redirect_uri or os.environ.get("SMARTCAR_REDIRECT_URI") or DEFAULT_REDIRECT_URI
    )
    if sandbox is None:
        sandbox = client_id is None
    if sandbox:
        return _sandbox_connection(redirect_uri)

    if not client_id:
        raise ConfigurationError(
            "No client_id for Smartcar: pass client_id= or set SMARTCAR_CLIENT_ID "
            "(Smartcar's dashboard shows it), or leave both out to use the sandbox."
        )
    secret = os.environ.get("SMARTCAR_CLIENT_SECRET")
    if not secret:
        raise ConfigurationError(
            f"The app {client_id!r} has no secret: SMARTCAR_CLIENT_SECRET is not "
            "set in this kernel's environment. Set it before starting JupyterLab, "
            "or enter it in sct.credentials_form(), which keeps it out of the "
            "notebook."
        )
    check_local_redirect_uri(redirect_uri)
    logger.info("Using Smartcar with app %r", client_id)
    return Connection(
        client_id,
        secret,
        redirect_uri,
        os.environ.get("SMARTCAR_CONNECT_ORIGIN", CONNECT_ORIGIN).rstrip("/"),
        os.environ.get("SMARTCAR_AUTH_ORIGIN", TOKEN_URL),
        os.environ.get("SMARTCAR_API_ORIGIN", API_ORIGIN).rstrip("/"),
        source="credentials from the environment",
    )


def _sandbox_connection(redirect_uri: str) -> Connection:
    from .steps import local_redirect_uri, start_sandbox  # started on demand

    check_local_redirect_uri(redirect_uri)
    redirect_uri = local_redirect_uri(redirect_uri)
    sandbox = start_sandbox()
    sandbox.register_redirect_uri(redirect_uri)
    return Connection(
        sandbox.client_id,
        sandbox.client_secret,
        redirect_uri,
        sandbox.origin,
        sandbox.origin + "/oauth/token",
        sandbox.origin,
        sandbox=sandbox,
        source="the sandbox's demo app",
    )


def check_local_redirect_uri(redirect_uri: str) -> None:
    """Check that the kernel's callback server can receive ``redirect_uri``.

    Smartcar redirects only to the exact URI registered for the app, and
    accepts plain http only for ``localhost``; the kernel's server speaks
    plain http. So the URI must be ``http://localhost:<port>/<path>``.

    Raises:
        ConfigurationError: It is not, with the reason and the fix.
    """
    parts = urlsplit(redirect_uri)
    problem = _redirect_problem(parts)
    if problem is None:
        return
    port = parts.port if problem != _BAD_PORT else None
    example = f"http://localhost:{port or 8080}{parts.path or '/callback'}"
    raise ConfigurationError(
        f"The redirect URI {redirect_uri!r} {problem}. Register {example!r} for "
        "your app in Smartcar's dashboard and use exactly that."
    )


_BAD_PORT = "has a port that is not a number from 0 to 65535"


def _redirect_problem(parts: SplitResult) -> str | None:
    """Why the kernel cannot receive a redirect to ``parts``, or None."""
    try:
        _ = parts.port  # reading it raises for "abc" or 99999
    except ValueError:
        return _BAD_PORT
    if not parts.scheme or not parts.netloc:
        return "is relative; Connect needs an absolute URI"
    if parts.scheme == "https":
        return (
            "uses https, but the server in this kernel speaks plain http "
            "(which Smartcar accepts for localhost)"
        )
    if parts.scheme.startswith("sc"):
        return (
            f"uses the scheme {parts.scheme!r}, which only an app on a phone "
            "can receive, not this kernel"
        )
    if parts.scheme != "http":
        return (
            f"uses the scheme {parts.scheme!r}; the server in this kernel "
            "receives only http"
        )
    if parts.hostname != "localhost":
        return (
            f"uses plain http on {parts.hostname!r}; Smartcar accepts plain "
            "http only for localhost"
        )
    return None
