"""Check an authorization request and build the redirect back to the app.

Pure functions: the HTTP handler turns a :class:`RejectedRequest` into an
error page. Connect, like RFC 6749 §4.1.2.1 asks for a bad ``client_id`` or
``redirect_uri``, never redirects a request it cannot trust; the sandbox
shows an error page for every malformed request, as Connect does.

    request = check_authorize_request("response_type=code&client_id=…", store)
    redirect_with(request.redirect_uri, {"code": "abc", "state": request.state})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..auth_url import MODES
from .store import Client, SandboxStore

#: Parameters that must not be repeated (RFC 6749 §3.1).
SINGLE_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "mode",
    "make",
)


class RejectedRequest(Exception):
    """Raised when an authorization request gets an error page, not a redirect."""

    def __init__(self, title: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked authorization request, ready to open a Connect session."""

    client: Client
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    mode: str
    make: str | None
    #: False when the URL gave no redirect_uri and the app's default is used.
    redirect_uri_sent: bool = True


def check_authorize_request(query: str, store: SandboxStore) -> AuthorizeRequest:
    """Parse and check the query of ``GET /oauth/authorize``.

    Parameters may come in any order; spaces may be ``+`` or ``%20``.

    Raises:
        RejectedRequest: The request names an unknown app, a redirect URI
            the app did not register, or a response type or mode Connect
            does not support.
    """
    pairs = parse_qsl(query, keep_blank_values=True)
    repeated = [
        name
        for name, n in Counter(k for k, _ in pairs).items()
        if n > 1 and name in SINGLE_PARAMETERS
    ]
    if repeated:
        raise RejectedRequest(
            "Repeated parameter",
            f"The authorization URL gives {repeated[0]!r} more than once; OAuth "
            "allows each parameter once (RFC 6749 §3.1). Build the URL again "
            "with AuthClient.get_auth_url().",
        )
    params = dict(pairs)

    client = _check_client(params.get("client_id"), store)
    redirect_uri = _check_redirect_uri(params.get("redirect_uri"), client)
    _check_response_type(params.get("response_type"))
    return AuthorizeRequest(
        client=client,
        redirect_uri=redirect_uri,
        scope=tuple(params.get("scope", "").split()),
        state=params.get("state") or None,
        mode=_check_mode(params.get("mode")),
        make=params.get("make") or None,
        redirect_uri_sent="redirect_uri" in params,
    )


def _check_client(client_id: str | None, store: SandboxStore) -> Client:
    if not client_id:
        raise RejectedRequest(
            "No client_id",
            "The authorization URL has no client_id, so Connect cannot tell "
            "which app is asking. Pass the app's client_id to AuthClient().",
        )
    client = store.get_client(client_id)
    if client is None:
        known = ", ".join(repr(c) for c in store.clients) or "none"
        raise RejectedRequest(
            "Unknown app",
            f"No app with client_id {client_id!r} is registered with this "
            f"sandbox (it knows: {known}). Use sandbox.client_id, or register "
            "your app with sandbox.register_client().",
        )
    return client


def _check_redirect_uri(redirect_uri: str | None, client: Client) -> str:
    if redirect_uri is None:
        if client.redirect_uris:
            return client.redirect_uris[0]
        raise RejectedRequest(
            "No redirect URI",
            f"The URL gives no redirect_uri and app {client.client_id!r} has "
            "none registered. Pass redirect_uri= to AuthClient() and register "
            "it with sandbox.register_redirect_uri().",
        )
    if redirect_uri not in client.redirect_uris:
        registered = ", ".join(repr(uri) for uri in client.redirect_uris) or "none"
        raise RejectedRequest(
            "Redirect URI not registered",
            f"redirect_uri {redirect_uri!r} is not registered for app "
            f"{client.client_id!r} (registered: {registered}). It must match "
            "exactly, port and path included. Fix the URI, or register it with "
            "sandbox.register_redirect_uri().",
        )
    return redirect_uri


def _check_response_type(response_type: str | None) -> None:
    if response_type != "code":
        raise RejectedRequest(
            "Unsupported response type",
            f"response_type={response_type!r} is not supported: Connect only "
            "issues authorization codes, so send response_type=code "
            "(AuthClient.get_auth_url() does).",
        )


def _check_mode(mode: str | None) -> str:
    # Connect lower-cases the mode before checking it.
    if mode is None:
        return "live"
    if mode.lower() not in MODES:
        raise RejectedRequest(
            "Unknown mode",
            f"mode={mode!r} is not a Connect mode. Use one of "
            + ", ".join(repr(m) for m in MODES)
            + "; 'test' needs no real vehicle.",
        )
    return mode.lower()


def redirect_with(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """Return ``redirect_uri`` with ``params`` added to the query it has.

    Parameters whose value is None are left out (``state`` when none was
    sent). The redirect URI's own query is kept (RFC 6749 §3.1.2).
    """
    parts = urlsplit(redirect_uri)
    added = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))
