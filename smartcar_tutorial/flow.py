"""One authorization in progress: the link was made, the answer is awaited.

A :class:`PendingFlow` is keyed by the ``state`` sent in the auth URL. The
callback server completes it from its own thread when the matching redirect
arrives; the notebook either subscribes (widgets update themselves) or
blocks in :meth:`PendingFlow.wait`.

    flow = server.expect(state, auth_url)
    flow.subscribe(lambda result: ...)     # runs in the server's thread
    result = flow.wait(timeout=120)        # or block, Ctrl-C still works
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from .errors import CallbackTimeoutError, ConfigurationError
from .result import AuthorizationResult, shorten

logger = logging.getLogger(__name__)

#: How long :meth:`PendingFlow.wait` blocks at a time before checking again,
#: so that a KeyboardInterrupt (the notebook's stop button) gets through.
POLL_SECONDS = 0.2


class PendingFlow:
    """An authorization waiting for its redirect, completed at most once.

    Attributes:
        state: The ``state`` sent in the auth URL; the redirect must echo it.
        auth_url: The link the owner opens, when known.
        redirect_uri: Where Connect sends the answer; named in timeout errors.
        started_at: When the flow was created, in :func:`time.monotonic`
            seconds.
        result: The first answer that arrived, or None while waiting.
    """

    def __init__(
        self,
        state: str,
        auth_url: str | None = None,
        redirect_uri: str | None = None,
    ) -> None:
        self.state = state
        self.auth_url = auth_url
        self.redirect_uri = redirect_uri
        self.started_at = time.monotonic()
        self.result: AuthorizationResult | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[AuthorizationResult], None]] = []

    @property
    def done(self) -> bool:
        """True once an answer (code or error) has arrived."""
        return self._done.is_set()

    @property
    def elapsed(self) -> float:
        """Seconds since the flow was created."""
        return time.monotonic() - self.started_at

    def complete(self, result: AuthorizationResult) -> bool:
        """Record ``result`` and notify subscribers; safe from any thread.

        The first answer wins: a later one (a reloaded callback page, say)
        is ignored so it cannot replace a code already handed out.

        Returns:
            True if ``result`` was recorded, False if the flow was done.
        """
        with self._lock:
            if self.result is not None:
                return False
            self.result = result
            subscribers = list(self._subscribers)
            self._subscribers.clear()
            self._done.set()

        logger.debug("Flow %r completed (code %s)", self.state, shorten(result.code))
        for callback in subscribers:
            self._notify(callback, result)
        return True

    def subscribe(self, callback: Callable[[AuthorizationResult], None]) -> None:
        """Call ``callback(result)`` when the answer arrives.

        The callback runs in the callback server's thread, so in a notebook
        it should only assign widget traits. If the flow is already done it
        is called at once, in the caller's thread. Exceptions it raises are
        logged and do not stop other subscribers.
        """
        with self._lock:
            result = self.result
            if result is None:
                self._subscribers.append(callback)
                return
        self._notify(callback, result)

    def wait(self, timeout: float = 300) -> AuthorizationResult:
        """Block until the answer arrives and return it.

        The wait is cut into short slices so the notebook's stop button
        (KeyboardInterrupt) interrupts it.

        Args:
            timeout: The most seconds to wait.

        Returns:
            The result, when it carries a code.

        Raises:
            CallbackTimeoutError: No answer arrived within ``timeout``.
            AuthorizationDeniedError: The owner pressed Deny.
            AuthorizationError: Connect sent another error.
            ConfigurationError: ``timeout`` is negative or not a number.
        """
        if not isinstance(timeout, (int, float)) or not math.isfinite(timeout):
            raise ConfigurationError(
                f"timeout={timeout!r} is not a number of seconds. Pass one, "
                "such as timeout=300."
            )
        if timeout < 0:
            raise ConfigurationError(
                f"timeout={timeout!r} is negative. Pass the seconds to wait, "
                "such as timeout=300."
            )

        deadline = time.monotonic() + timeout
        while not self._done.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CallbackTimeoutError(self._timeout_message(timeout))
            self._done.wait(min(POLL_SECONDS, remaining))
        assert self.result is not None
        return self.result.raise_for_error()

    def _timeout_message(self, timeout: float) -> str:
        where = repr(self.redirect_uri) if self.redirect_uri else "the callback server"
        return (
            f"No redirect reached {where} within {timeout:g} s. Open the link "
            "again and go through Connect to the end (press Allow or Deny); "
            "check that the app's registered redirect URI is exactly "
            f"{where}; or call wait() again with a larger timeout=."
        )

    def _notify(
        self,
        callback: Callable[[AuthorizationResult], None],
        result: AuthorizationResult,
    ) -> None:
        try:
            callback(result)
        except Exception:
            logger.exception("A subscriber of flow %r failed", self.state)

    def __repr__(self) -> str:
        if self.result is None:
            status = "waiting"
        elif self.result.ok:
            status = f"code={shorten(self.result.code)}"
        else:
            status = f"error={self.result.error!r}"
        return f"PendingFlow(state={self.state!r}, {status})"
