"""Exchange an authorization code for tokens, and refresh them.

The token endpoint takes a form-encoded POST with the app's credentials in
HTTP Basic authentication (RFC 6749 §4.1.3, §6), exactly as Smartcar's SDK
sends it; the tests compare the two requests byte for byte.

    access = exchange_code(connection, result.code)
    access = refresh(connection, access.refresh_token)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import requests

from .errors import TutorialError
from .result import shorten

logger = logging.getLogger(__name__)

REFRESH_LIFETIME = timedelta(days=60)


class TokenError(TutorialError):
    """Raised when the token endpoint refuses an exchange or a refresh."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class _App(Protocol):
    client_id: str
    client_secret: str
    redirect_uri: str
    token_url: str


@dataclass(frozen=True)
class Access:
    """What the token endpoint returned, with expiry times worked out.

    Printing it never shows a whole token: only their first characters.
    """

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    refresh_token: str = field(repr=False)
    expiration: datetime
    refresh_expiration: datetime

    @classmethod
    def from_json(cls, body: dict[str, Any], now: datetime | None = None) -> Access:
        """Build it from the endpoint's JSON, as Smartcar's SDK does."""
        now = now or datetime.now(timezone.utc)
        return cls(
            body["access_token"],
            body["token_type"],
            int(body["expires_in"]),
            body["refresh_token"],
            now + timedelta(seconds=int(body["expires_in"])),
            now + REFRESH_LIFETIME,
        )

    def is_expired(self, now: datetime | None = None) -> bool:
        """True once the access token's lifetime has passed."""
        return (now or datetime.now(timezone.utc)) >= self.expiration

    def __repr__(self) -> str:
        return (
            f"Access(access_token={shorten(self.access_token)!r}, "
            f"token_type={self.token_type!r}, expires_in={self.expires_in}, "
            f"refresh_token={shorten(self.refresh_token)!r}, "
            f"expiration={self.expiration:%Y-%m-%d %H:%M} UTC)"
        )


def exchange_code(app: _App, code: str, timeout: float = 30) -> Access:
    """Exchange an authorization code for an access and a refresh token.

    Args:
        app: Anything with ``client_id``, ``client_secret``, ``redirect_uri``
            and ``token_url``, such as a
            :class:`~smartcar_tutorial.connection.Connection`.
        code: The code from Step 3; it works once, within 10 minutes.

    Raises:
        TokenError: The endpoint refused, e.g. ``invalid_grant`` for a used
            or expired code.
    """
    form = {"grant_type": "authorization_code", "code": code}
    if app.redirect_uri:
        form["redirect_uri"] = app.redirect_uri
    logger.info("Exchanging code %s at %s", shorten(code), app.token_url)
    return _post(app, form, timeout)


def refresh(app: _App, refresh_token: str, timeout: float = 30) -> Access:
    """Trade a refresh token for a new pair (the old one stops working).

    Raises:
        TokenError: The endpoint refused, e.g. an expired refresh token.
    """
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    logger.info("Refreshing token %s at %s", shorten(refresh_token), app.token_url)
    return _post(app, form, timeout)


def _post(app: _App, form: dict[str, str], timeout: float) -> Access:
    response = requests.post(
        app.token_url,
        data=form,
        auth=(app.client_id, app.client_secret),
        timeout=timeout,
    )
    if response.ok:
        return Access.from_json(response.json())

    try:
        body = response.json()
    except ValueError:
        body = {}
    raise TokenError(
        response.status_code,
        str(body.get("error", "unknown_error")),
        str(body.get("error_description", response.text[:200])),
    )
