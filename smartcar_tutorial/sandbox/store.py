"""The sandbox's memory: registered apps, Connect sessions, codes and tokens.

Everything lives in one :class:`SandboxStore`, guarded by a lock because the
sandbox answers each request on its own thread; the tokens live in its
:class:`~.grants.GrantBook`. Time comes from an injectable clock, so tests
can make a code or a token expire without waiting.

    store = SandboxStore(clock=lambda: 1000.0)
    client = store.register_client("id", "secret", ["http://localhost:8080/cb"])
    session = store.open_session(client, "http://localhost:8080/cb",
                                 ("read_odometer",), "state", "test", None)
    issued = store.issue_code(session)       # expires at 1600.0
    store.redeem_code(issued.code)           # a second call raises
    store.grants.issue(grant)                # tokens: see grants.py
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import ConfigurationError, TutorialError
from ..randomness import random_token, random_uuid
from ..result import shorten
from .grants import GrantBook

logger = logging.getLogger(__name__)

#: A code is valid for 10 minutes after it is issued, as Smartcar's are.
CODE_LIFETIME = 600.0
#: How long an owner may take to go through Connect's pages.
SESSION_LIFETIME = 1800.0
#: Sessions and codes kept at most; expired codes stay so they can be told apart.
MAX_ENTRIES = 1000

#: The pages of a Connect session, in order; ``DONE`` once it redirected.
STEPS = ("intro", "brand", "login", "permissions")
DONE = "done"


class CodeRejectedError(TutorialError):
    """Raised when a code is unknown, already used or expired."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Client:
    """An app registered with the sandbox, as on Smartcar's dashboard."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: list[str]
    name: str = "Demo app"


@dataclass
class ConnectSession:
    """One owner's walk through Connect's pages for one authorization URL."""

    session_id: str
    client: Client = field(repr=False)
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    mode: str
    make: str | None
    created_at: float
    step: str = "intro"
    email: str | None = None
    #: False when the URL gave no redirect_uri and Connect used the default.
    redirect_uri_sent: bool = True

    @property
    def finished(self) -> bool:
        return self.step == DONE


@dataclass
class IssuedCode:
    """An authorization code and everything a token exchange must check."""

    code: str
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    mode: str
    make: str | None
    issued_at: float
    used_at: float | None = None
    #: Whether the authorization URL carried ``redirect_uri`` (RFC 6749 §4.1.3).
    redirect_uri_sent: bool = True
    #: The email the owner logged in with.
    owner: str | None = None

    @property
    def expires_at(self) -> float:
        return self.issued_at + CODE_LIFETIME

    def is_expired(self, now: float) -> bool:
        return now >= self.expires_at

    def __repr__(self) -> str:
        return (
            f"IssuedCode(code={shorten(self.code)!r}, client_id={self.client_id!r}, "
            f"redirect_uri={self.redirect_uri!r}, scope={self.scope!r}, "
            f"mode={self.mode!r}, make={self.make!r}, issued_at={self.issued_at!r}, "
            f"used_at={self.used_at!r})"
        )


def check_redirect_uri(uri: str) -> str:
    """Return ``uri`` if it can be registered, else raise ConfigurationError.

    A redirect URI must be absolute and carry no fragment (RFC 6749 §3.1.2).
    """
    parts = urlsplit(uri)
    if not parts.scheme or (parts.scheme in ("http", "https") and not parts.netloc):
        raise ConfigurationError(
            f"Redirect URI {uri!r} is not an absolute URI. Give the full address, "
            "such as 'http://localhost:8080/callback'."
        )
    if parts.fragment:
        raise ConfigurationError(
            f"Redirect URI {uri!r} has a fragment ('#{parts.fragment}'); OAuth "
            "forbids one (RFC 6749 §3.1.2). Remove everything from '#' on."
        )
    return uri


class SandboxStore:
    """In-memory state of the sandbox.

    Args:
        clock: Returns the current time in seconds; ``time.time`` by default.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.clients: dict[str, Client] = {}
        self.sessions: dict[str, ConnectSession] = {}
        self.codes: dict[str, IssuedCode] = {}
        self.grants = GrantBook(lambda: self.clock())
        self._lock = threading.Lock()

    def register_client(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: Iterable[str],
        name: str = "Demo app",
    ) -> Client:
        """Add an app (or replace one with the same id) and return it."""
        if isinstance(redirect_uris, str):
            raise ConfigurationError(
                f"redirect_uris={redirect_uris!r} is one string; pass a list, "
                f"such as [{redirect_uris!r}]."
            )
        uris = [check_redirect_uri(uri) for uri in redirect_uris]
        client = Client(client_id, client_secret, uris, name)
        with self._lock:
            self.clients[client_id] = client
        logger.info(
            "Sandbox registered client %r with %d redirect URI(s)", client_id, len(uris)
        )
        return client

    def add_redirect_uri(self, client_id: str, uri: str) -> None:
        """Allow one more redirect URI for a registered app."""
        check_redirect_uri(uri)
        with self._lock:
            client = self.clients.get(client_id)
            if client is None:
                raise ConfigurationError(
                    f"No client {client_id!r} is registered with the sandbox. "
                    "Call register_client() first, or use the demo client."
                )
            if uri not in client.redirect_uris:
                client.redirect_uris.append(uri)
        logger.info("Sandbox allows redirect URI %r for client %r", uri, client_id)

    def get_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def open_session(
        self,
        client: Client,
        redirect_uri: str,
        scope: tuple[str, ...],
        state: str | None,
        mode: str,
        make: str | None,
        redirect_uri_sent: bool = True,
    ) -> ConnectSession:
        """Start a walk through Connect's pages and return it."""
        session = ConnectSession(
            session_id=random_token(16, "session"),
            client=client,
            redirect_uri=redirect_uri,
            scope=scope,
            state=state,
            mode=mode,
            make=make,
            created_at=self.clock(),
            redirect_uri_sent=redirect_uri_sent,
        )
        with self._lock:
            self._trim(self.sessions)
            self.sessions[session.session_id] = session
        return session

    def get_session(self, session_id: str) -> ConnectSession | None:
        """Return the session, or None when it is unknown or expired."""
        session = self.sessions.get(session_id)
        if session is None or self.clock() >= session.created_at + SESSION_LIFETIME:
            return None
        return session

    def advance(
        self, session: ConnectSession, from_step: str, to_step: str, **changes: str
    ) -> bool:
        """Move ``session`` from one page to the next, setting ``changes``.

        Returns False, changing nothing, when another request already moved
        it on, so a double-clicked Allow issues one code, not two.
        """
        with self._lock:
            if session.step != from_step:
                return False
            for name, value in changes.items():
                setattr(session, name, value)
            session.step = to_step
            return True

    def issue_code(self, session: ConnectSession) -> IssuedCode:
        """Record a new single-use code for a session the owner approved."""
        issued = IssuedCode(
            code=random_uuid("code"),
            client_id=session.client.client_id,
            redirect_uri=session.redirect_uri,
            scope=session.scope,
            mode=session.mode,
            make=session.make,
            issued_at=self.clock(),
            redirect_uri_sent=session.redirect_uri_sent,
            owner=session.email,
        )
        with self._lock:
            self._trim(self.codes)
            self.codes[issued.code] = issued
        logger.info(
            "Sandbox issued code %s to client %r",
            shorten(issued.code),
            issued.client_id,
        )
        return issued

    def get_code(self, code: str) -> IssuedCode | None:
        """Return the record of ``code`` without using it, or None."""
        return self.codes.get(code)

    def redeem_code(self, code: str) -> IssuedCode:
        """Mark ``code`` used and return its record; a code works only once.

        Raises:
            CodeRejectedError: The code is unknown, used or expired; its
                ``reason`` is ``"unknown"``, ``"used"`` or ``"expired"``.
        """
        now = self.clock()
        with self._lock:
            issued = self.codes.get(code)
            if issued is None:
                reason, problem = "unknown", "was never issued by this sandbox"
            elif issued.used_at is not None:
                reason, problem = "used", "was already exchanged once"
            elif issued.is_expired(now):
                reason, problem = "expired", "expired (codes last 10 minutes)"
            else:
                issued.used_at = now
                return issued
        raise CodeRejectedError(
            f"Code {shorten(code)!r} {problem}. Go through Connect again to get "
            "a fresh code, and exchange it at once.",
            reason,
        )

    @staticmethod
    def _trim(table: dict) -> None:
        """Drop the oldest entries so a long-lived kernel stays small."""
        while len(table) >= MAX_ENTRIES:
            del table[next(iter(table))]
