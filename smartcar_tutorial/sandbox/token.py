"""The token endpoint: a code or a refresh token in, a token pair out.

``POST /oauth/token`` takes a form body and the app's credentials as HTTP
Basic auth (RFC 6749 §2.3.1), and answers JSON: a token pair (§5.1), or
``{"error", "error_description"}`` with the status §5.2 gives each error.
Two grants are supported: ``authorization_code`` (§4.1.3) and
``refresh_token`` (§6). The HTTP handler only moves bytes:

    status, body, headers = answer_token_request(
        store, request.headers.get("Authorization"),
        request.headers.get("Content-Type"), request_body)
    status, body["token_type"]        # 200, 'Bearer'
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections import Counter
from collections.abc import Callable
from urllib.parse import parse_qsl

from ..permissions import split_required
from ..result import shorten
from .grants import Grant, TokenPair, TokenRejectedError
from .store import Client, CodeRejectedError, IssuedCode, SandboxStore
from .vehicles import vehicles_for

logger = logging.getLogger(__name__)

FORM_TYPE = "application/x-www-form-urlencoded"
REALM = "smartcar-tutorial sandbox"

_MISSING_HINTS = {
    "grant_type": "Send grant_type=authorization_code with a code, or "
    "grant_type=refresh_token with a refresh_token.",
    "code": "Send the code Connect added to the redirect URI.",
    "refresh_token": "Send the refresh_token of the latest exchange.",
}


class TokenError(Exception):
    """Raised inside the endpoint for an RFC 6749 §5.2 error reply."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


#: What an endpoint answers: status, JSON body and extra headers.
JsonReply = tuple[int, dict[str, object], dict[str, str]]


def answer_token_request(
    store: SandboxStore,
    authorization: str | None,
    content_type: str | None,
    body: bytes,
) -> JsonReply:
    """Answer one ``POST /oauth/token``.

    Args:
        store: The sandbox's memory: apps, codes and the grant book.
        authorization: The request's ``Authorization`` header, if any.
        content_type: The request's ``Content-Type`` header, if any.
        body: The raw form body.

    Returns:
        Status, JSON body and extra headers: 200 with a token pair, or a
        400/401 error.
    """
    try:
        form = _parse_form(content_type, body)
        client = _authenticate_client(store, authorization, form)
        grant_type = _require(form, "grant_type")
        issue = GRANT_TYPES.get(grant_type)
        if issue is None:
            raise TokenError(
                "unsupported_grant_type",
                f"grant_type {grant_type!r} is not supported. The sandbox accepts "
                "'authorization_code' and 'refresh_token'.",
            )
        pair = issue(store, client, form)
    except TokenError as exc:
        logger.warning("Token endpoint refused a request: %s", exc.description)
        headers = {}
        if exc.status == 401:
            # RFC 6749 §5.2: a 401 names the authentication scheme to use.
            headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
        error = {"error": exc.error, "error_description": exc.description}
        return exc.status, error, headers
    return 200, pair.as_response(), {"Pragma": "no-cache"}


def _exchange_code(
    store: SandboxStore, client: Client, form: dict[str, str]
) -> TokenPair:
    """The ``authorization_code`` grant (RFC 6749 §4.1.3)."""
    code = _require(form, "code")
    issued = store.get_code(code)
    if issued is not None:
        _check_code_matches(issued, client, form.get("redirect_uri"))
    try:
        issued = store.redeem_code(code)
    except CodeRejectedError as exc:
        raise TokenError("invalid_grant", str(exc)) from exc

    grant = Grant(
        client_id=client.client_id,
        owner=issued.owner,
        scope=frozenset(split_required(name)[0] for name in issued.scope),
        mode=issued.mode,
        vehicles=vehicles_for(issued.make, issued.mode),
        granted_at=store.clock(),
    )
    logger.info("Client %r exchanged code %s", client.client_id, shorten(issued.code))
    return store.grants.issue(grant)


def _check_code_matches(
    issued: IssuedCode, client: Client, redirect_uri: str | None
) -> None:
    """Check the code is this app's and the redirect URI is the same one."""
    if issued.client_id != client.client_id:
        raise TokenError(
            "invalid_grant",
            f"Code {shorten(issued.code)!r} was issued to another app, not to "
            f"{client.client_id!r}. Exchange it with the credentials of the app "
            "that sent the owner to Connect.",
        )
    if redirect_uri is None and issued.redirect_uri_sent:
        raise TokenError(
            "invalid_request",
            "The token request has no redirect_uri, but the authorization URL "
            f"sent {issued.redirect_uri!r}. Send the same redirect_uri "
            "(RFC 6749 §4.1.3); AuthClient(redirect_uri=…) does.",
        )
    if redirect_uri is not None and redirect_uri != issued.redirect_uri:
        raise TokenError(
            "invalid_grant",
            f"redirect_uri {redirect_uri!r} is not {issued.redirect_uri!r}, the "
            "one Connect used for this code. Send exactly the same value "
            "(RFC 6749 §4.1.3).",
        )


def _refresh(store: SandboxStore, client: Client, form: dict[str, str]) -> TokenPair:
    """The ``refresh_token`` grant (RFC 6749 §6)."""
    refresh_token = _require(form, "refresh_token")
    try:
        return store.grants.refresh(refresh_token, client.client_id)
    except TokenRejectedError as exc:
        raise TokenError("invalid_grant", str(exc)) from exc


GRANT_TYPES: dict[str, Callable[[SandboxStore, Client, dict[str, str]], TokenPair]] = {
    "authorization_code": _exchange_code,
    "refresh_token": _refresh,
}


def _parse_form(content_type: str | None, body: bytes) -> dict[str, str]:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_TYPE:
        raise TokenError(
            "invalid_request",
            f"The token request has Content-Type {content_type!r}. Send the "
            f"parameters as a form, Content-Type {FORM_TYPE!r} (RFC 6749 §4.1.3).",
        )
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise TokenError(
            "invalid_request", "The token request's form is not UTF-8 text."
        ) from exc
    repeated = [name for name, n in Counter(k for k, _ in pairs).items() if n > 1]
    if repeated:
        raise TokenError(
            "invalid_request",
            f"The token request gives {repeated[0]!r} more than once; each "
            "parameter may appear once (RFC 6749 §3.2).",
        )
    return dict(pairs)


def _require(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise TokenError(
            "invalid_request",
            f"The token request has no {name!r}. {_MISSING_HINTS[name]}",
        )
    return value


def _authenticate_client(
    store: SandboxStore, authorization: str | None, form: dict[str, str]
) -> Client:
    """Check the app's HTTP Basic credentials (RFC 6749 §2.3.1)."""
    client_id, secret = _basic_credentials(authorization, form)
    client = store.get_client(client_id)
    if client is None:
        raise TokenError(
            "invalid_client",
            f"No app with client_id {client_id!r} is registered with this "
            "sandbox. Use the demo app's credentials, or register yours with "
            "sandbox.register_client() or --register CLIENT_ID:SECRET:URI.",
            401,
        )
    if not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
        raise TokenError(
            "invalid_client",
            f"The client_secret sent for {client_id!r} is wrong. Pass that "
            "app's own secret to AuthClient(); for the demo app it is "
            "sandbox.client_secret.",
            401,
        )
    return client


def _basic_credentials(
    authorization: str | None, form: dict[str, str]
) -> tuple[str, str]:
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        in_form = " (not in the form body)" if "client_secret" in form else ""
        raise TokenError(
            "invalid_client",
            "The token request has no HTTP Basic credentials. Send "
            "'Authorization: Basic base64(client_id:client_secret)'"
            f"{in_form} (RFC 6749 §2.3.1); AuthClient(client_id, "
            "client_secret) does.",
            401,
        )
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise TokenError(
            "invalid_client",
            "The Basic credentials are not valid base64. Encode "
            "'client_id:client_secret' with base64.",
            401,
        ) from exc
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise TokenError(
            "invalid_client",
            "The Basic credentials hold no 'client_id:client_secret' pair. "
            "Join the two with a colon before encoding them.",
            401,
        )
    return client_id, secret
