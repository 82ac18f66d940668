"""Every exception the tutorial raises derives from :class:`TutorialError`.

try:
    result = flow.wait(timeout=60)
except smartcar_tutorial.TutorialError as exc:
    print(exc)          # says what happened and what to try next
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import AuthorizationResult


class TutorialError(Exception):
    """Base class of every error raised by smartcar_tutorial."""


class ConfigurationError(TutorialError, ValueError):
    """Raised when an argument, option or environment variable is unusable."""


class PortInUseError(TutorialError, OSError):
    """Raised when a server cannot listen because its port is taken."""


class CallbackTimeoutError(TutorialError, TimeoutError):
    """Raised when no redirect reached the callback server in time."""


class StateMismatchError(TutorialError):
    """Raised when a redirect carries a ``state`` nobody is waiting for."""


class AuthorizationError(TutorialError):
    """Raised when Connect redirected back with an ``error`` instead of a code.

    The redirect's fields are kept on :attr:`result`.
    """

    def __init__(self, result: AuthorizationResult) -> None:
        super().__init__(result.explain())
        self.result = result

    @property
    def error(self) -> str | None:
        return self.result.error


class AuthorizationDeniedError(AuthorizationError):
    """Raised when the vehicle owner pressed Deny (``access_denied``)."""


class SandboxMovedWarning(UserWarning):
    """Warned when the sandbox's port was taken and it listens on another."""
