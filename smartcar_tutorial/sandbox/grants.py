"""Grants and the tokens that carry them, as the token endpoint issues them.

A grant is what the owner allowed one app on the consent pages: the
permissions, the mode and the vehicles. Exchanging a code creates it;
every access token and refresh token points at it. Access tokens last two
hours and refresh tokens 60 days, as Smartcar's do; refreshing returns a
new pair and the old refresh token stops working (RFC 6749 §6).

    book = GrantBook(clock=lambda: 1000.0)
    pair = book.issue(grant)
    book.check_access_token(pair.access_token)     # the grant
    newer = book.refresh(pair.refresh_token, grant.client_id)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import TutorialError
from ..randomness import random_uuid
from ..result import shorten
from .vehicles import DemoVehicle

logger = logging.getLogger(__name__)

#: Access tokens last two hours (``expires_in`` 7200).
ACCESS_TOKEN_LIFETIME = 7200.0
#: Refresh tokens last 60 days.
REFRESH_TOKEN_LIFETIME = 60 * 24 * 3600.0
#: Tokens kept at most; expired ones stay so errors can say "expired".
MAX_TOKENS = 2000


class TokenRejectedError(TutorialError):
    """Raised when a token is unknown, used, expired or another app's."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Grant:
    """What an owner allowed one app: permissions, mode and vehicles."""

    client_id: str
    owner: str | None
    scope: frozenset[str]
    mode: str
    vehicles: tuple[DemoVehicle, ...]
    granted_at: float

    def allows(self, permission: str) -> bool:
        return permission in self.scope

    def find_vehicle(self, vehicle_id: str) -> DemoVehicle | None:
        return next((v for v in self.vehicles if v.vehicle_id == vehicle_id), None)


@dataclass
class _Token:
    grant: Grant
    expires_at: float
    used_at: float | None = None


@dataclass(frozen=True)
class TokenPair:
    """An access token and a refresh token issued together."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    grant: Grant

    def as_response(self) -> dict[str, object]:
        """The token endpoint's JSON body (RFC 6749 §5.1)."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": int(ACCESS_TOKEN_LIFETIME),
            "refresh_token": self.refresh_token,
        }


class GrantBook:
    """Every token the sandbox issued, and the grant behind each one.

    Args:
        clock: Returns the current time in seconds.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.access_tokens: dict[str, _Token] = {}
        self.refresh_tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()

    def issue(self, grant: Grant) -> TokenPair:
        """Issue a fresh access and refresh token for ``grant``."""
        with self._lock:
            return self._issue(grant, self.clock())

    def refresh(self, refresh_token: str, client_id: str) -> TokenPair:
        """Trade a refresh token for a new pair; it works once (RFC 6749 §6).

        Raises:
            TokenRejectedError: The refresh token is unknown, was already
                used, expired, or belongs to another app.
        """
        now = self.clock()
        with self._lock:
            token = self.refresh_tokens.get(refresh_token)
            problem = self._problem(token, now, "refresh")
            if problem is None and token.grant.client_id != client_id:
                problem = "other-app", "was issued to another app"
            if problem is None:
                token.used_at = now
                return self._issue(token.grant, now)
        reason, what = problem
        raise TokenRejectedError(
            f"Refresh token {shorten(refresh_token)!r} {what}. Use the "
            "refresh_token of the latest exchange, or send the owner through "
            "Connect again for a new code.",
            reason,
        )

    def check_access_token(self, access_token: str) -> Grant:
        """Return the grant behind a valid access token.

        Raises:
            TokenRejectedError: The token is unknown or expired.
        """
        now = self.clock()
        with self._lock:
            token = self.access_tokens.get(access_token)
            problem = self._problem(token, now, "access")
            if problem is None:
                return token.grant
        reason, what = problem
        todo = (
            "Get a new one with AuthClient.exchange_refresh_token(refresh_token)."
            if reason == "expired"
            else "Exchange a fresh code for one, and send it as "
            "'Authorization: Bearer <access token>'."
        )
        raise TokenRejectedError(
            f"Access token {shorten(access_token)!r} {what}. {todo}", reason
        )

    @staticmethod
    def _problem(token: _Token | None, now: float, kind: str) -> tuple | None:
        """Return ``(reason, what happened)`` when ``token`` cannot be used."""
        if token is None:
            return "unknown", (
                "was never issued by this sandbox (a restart forgets every token)"
            )
        if token.used_at is not None:
            return "used", "was already used once, and that refresh returned a new one"
        if now >= token.expires_at:
            lifetime = "2 hours" if kind == "access" else "60 days"
            return "expired", f"has expired ({kind} tokens last {lifetime})"
        return None

    def _issue(self, grant: Grant, now: float) -> TokenPair:
        # Called with the lock held.
        pair = TokenPair(random_uuid("token"), random_uuid("token"), grant)
        for table in (self.access_tokens, self.refresh_tokens):
            while len(table) >= MAX_TOKENS:
                del table[next(iter(table))]
        self.access_tokens[pair.access_token] = _Token(
            grant, now + ACCESS_TOKEN_LIFETIME
        )
        self.refresh_tokens[pair.refresh_token] = _Token(
            grant, now + REFRESH_TOKEN_LIFETIME
        )
        logger.info(
            "Sandbox issued access token %s and refresh token %s to client %r",
            shorten(pair.access_token),
            shorten(pair.refresh_token),
            grant.client_id,
        )
        return pair
