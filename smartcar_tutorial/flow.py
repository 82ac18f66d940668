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

from .errors import CallbackTimeoutError, ConfigurationError, StateMismatchError
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
        self._notice_subscribers: list[Callable[[str], None]] = []

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

        A code, once here, stays: a repeated redirect (a reloaded callback
        page, say) cannot replace it. An error can be replaced by a different
        answer through the same link, so an owner who pressed Deny can open
        the link again and press Allow.

        Returns:
            True if ``result`` was recorded, False if it was ignored.
        """
        with self._lock:
            current = self.result
            if current is not None and (current.ok or current == result):
                return False
            self.result = result
            subscribers = list(self._subscribers)

        logger.debug("Flow %r completed (code %s)", self.state, shorten(result.code))
        for callback in subscribers:
            self._notify(callback, result)
        # Waiters wake only after the widgets show the answer, so a cell that
        # runs next (or a saved notebook) never sees a stale widget.
        self._done.set()
        return True

    def offer(self, result: AuthorizationResult) -> bool:
        """Complete the flow with an answer that came another way (pasted).

        The answer gets the same ``state`` check as one that reached the
        callback server. A bare code carries no state and is taken as is.

        Returns:
            True if recorded, False if the flow already had its answer.

        Raises:
            StateMismatchError: The answer belongs to another link.
        """
        if result.state is not None and result.state != self.state:
            raise StateMismatchError(
                f"This answer carries state {result.state[:40]!r}, but this flow "
                f"sent {self.state[:8] + '…'!r}: it belongs to another link (an "
                "older run of the cell?) and was not accepted. Paste the address "
                "from the tab that this flow's link opened."
            )
        return self.complete(result)

    def notify(self, notice: str) -> None:
        """Tell this flow's watchers something the learner should know.

        The callback server uses it for answers it refused, such as one
        with a ``state`` that matches no link.
        """
        with self._lock:
            watchers = list(self._notice_subscribers)
        for callback in watchers:
            self._notify(callback, notice)

    def subscribe_notices(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(notice)`` for each :meth:`notify` from now on."""
        with self._lock:
            self._notice_subscribers.append(callback)

    def subscribe(self, callback: Callable[[AuthorizationResult], None]) -> None:
        """Call ``callback(result)`` when the answer arrives.

        The callback runs in the callback server's thread, so in a notebook
        it should only assign widget traits. If the flow is already done it
        is called at once, in the caller's thread, and again if an error is
        later replaced by a code. Exceptions it raises are
        logged and do not stop other subscribers.
        """
        with self._lock:
            result = self.result
            self._subscribers.append(callback)
        if result is not None:
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

    def _notify(self, callback: Callable, argument: object) -> None:
        try:
            callback(argument)
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
