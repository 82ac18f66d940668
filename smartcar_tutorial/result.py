"""The answer Connect sends back to the redirect URI (Step 3), parsed once.

Every way an answer reaches the tutorial (the callback server, the paste
box, the ``serve`` command) goes through :func:`parse_redirect`, so there is
one parser and one result type.

    >>> result = parse_redirect("http://localhost:8080/callback?code=abc&state=s1")
    >>> result.code, result.state, result.ok
    ('abc', 's1', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import parse_qsl, urlsplit

from .errors import AuthorizationDeniedError, AuthorizationError, ConfigurationError

#: What each Connect error means, and what the learner can try.
ERROR_EXPLANATIONS = {
    "access_denied": (
        "The vehicle owner pressed Deny, so the app got no access.",
        "Open the link again and press Allow this time.",
    ),
    "invalid_subscription": (
        "The vehicle's connected-services subscription is not active.",
        "Log in with another account; the owner must renew the "
        "subscription with the car maker first.",
    ),
    "no_vehicles": (
        "The owner's account has no vehicles to share.",
        "Log in with an account that has a vehicle.",
    ),
    "vehicle_incompatible": (
        "The vehicle cannot give the permissions the app asked for.",
        "Ask for fewer permissions, or choose another vehicle.",
    ),
    "configuration_error": (
        "Connect hit an error page and the owner chose to go back.",
        "Read error_message below, fix the app's settings and try again.",
    ),
    "server_error": (
        "Smartcar failed while handling the request.",
        "Wait a moment and open the link again.",
    ),
    "user_manually_returned_to_application": (
        "The owner left Connect before granting access.",
        "Open the link again and go through every page.",
    ),
}

_KNOWN_FIELDS = ("code", "state", "error", "error_description")


def shorten(secret: str | None, keep: int = 4) -> str:
    """Return a form of ``secret`` safe for logs: its first characters only.

    >>> shorten("3b1f9c2e-aaaa-bbbb")
    '3b1f…'
    """
    if not secret:
        return repr(secret)
    return secret[:keep] + "…"


@dataclass(frozen=True)
class AuthorizationResult:
    """What Connect sent back: a ``code``, or an ``error`` with details.

    Attributes:
        code: The authorization code; single use, valid 10 minutes.
        state: The ``state`` echoed back, if one was sent.
        error: The error kind, such as ``"access_denied"``.
        error_description: Connect's own description of the error.
        extras: Every other query parameter (``vin``, ``make``,
            ``status_code``, ``virtual_key_url`` …), passed on untouched.
    """

    code: str | None = None
    state: str | None = None
    error: str | None = None
    error_description: str | None = None
    extras: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))

    @property
    def ok(self) -> bool:
        """True when a code arrived and no error."""
        return bool(self.code) and not self.error

    def explain(self) -> str:
        """Say in plain words what happened and what to try next."""
        if self.ok:
            return "Connect sent an authorization code: the owner granted access."
        what, todo = ERROR_EXPLANATIONS.get(
            self.error or "",
            (f"Connect sent the error {self.error!r}.", "Open the link again."),
        )
        detail = (
            f" Connect said: {self.error_description.rstrip('.')}."
            if self.error_description
            else ""
        )
        extras = "".join(f" {k}={v}." for k, v in self.extras.items())
        return f"{what}{detail}{extras} {todo}"

    def raise_for_error(self) -> AuthorizationResult:
        """Return self for a code; raise the matching error otherwise."""
        if self.ok:
            return self
        if self.error == "access_denied":
            raise AuthorizationDeniedError(self)
        raise AuthorizationError(self)

    def as_dict(self) -> dict[str, str]:
        """Return the fields that were present, extras included."""
        fields = {name: getattr(self, name) for name in _KNOWN_FIELDS}
        present = {k: v for k, v in fields.items() if v is not None}
        return {**present, **self.extras}

    def __repr__(self) -> str:
        return (
            "AuthorizationResult("
            + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())
            + ")"
        )


def parse_redirect(text: str) -> AuthorizationResult:
    """Parse what Connect sent back, from a URL, a query string or a code.

    Accepts the whole URL the browser was sent to, its query string alone
    (with or without ``?``), or a bare code pasted on its own. Both ``+``
    and ``%20`` decode to a space.

    Raises:
        ConfigurationError: The text holds neither a code nor an error.
    """
    text = text.strip()
    if "?" in text or "=" in text:
        query = urlsplit(text).query if "://" in text else text.lstrip("?")
        pairs = parse_qsl(query, keep_blank_values=True)
    elif text and " " not in text and "/" not in text:
        pairs = [("code", text)]
    else:
        pairs = []

    values = dict(pairs)
    known = {name: values.pop(name) for name in _KNOWN_FIELDS if name in values}
    result = AuthorizationResult(**known, extras=values)
    if not result.code and not result.error:
        raise ConfigurationError(
            f"{text[:80]!r} holds neither a code nor an error. Paste the whole "
            "address the browser was sent to after Connect (it contains "
            "'code=' or 'error='), or the code alone."
        )
    return result
