"""Build Smartcar Connect's authorization URL (Step 1 of the flow).

:class:`AuthClient` takes the same arguments and environment variables as
``smartcar.AuthClient`` from Smartcar's Python SDK, and for the same inputs
:meth:`AuthClient.get_auth_url` returns the same URL, byte for byte. Where
the SDK would crash, ignore a typo or misbehave, it raises
:class:`~smartcar_tutorial.errors.ConfigurationError` that names the value.

    client = AuthClient("my-id", "my-secret",
                        redirect_uri="http://localhost:8080/callback",
                        mode="test")
    url = client.get_auth_url(["read_vehicle_info"], {"state": new_state()})
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from .errors import ConfigurationError
from .permissions import PERMISSIONS, split_required
from .randomness import random_token

CONNECT_ORIGIN = "https://connect.smartcar.com"
MODES = ("live", "test", "simulated")
OPTION_KEYS = (
    "force_prompt",
    "state",
    "make_bypass",
    "single_select",
    "flags",
    "user",
)
ARGUMENT_NAMES = ("client_id", "client_secret", "redirect_uri", "test_mode", "mode")


def new_state() -> str:
    """Return a fresh random ``state`` value (RFC 6749 §10.12)."""
    return random_token(16, "state")


def _suggest(name: str, choices: Sequence[str]) -> str:
    """Return a " Did you mean …?" hint for a misspelt name, or ""."""
    folded = {choice.replace("_", "").lower(): choice for choice in choices}
    key = name.replace("_", "").replace("-", "").lower()
    if key in folded:
        return f" Did you mean {folded[key]!r}?"
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _from_env(value: str | None, variable: str) -> str | None:
    return value or os.environ.get(variable)


class AuthClient:
    """Holds an app's credentials and builds its Connect URL.

    Args:
        client_id: The app's id from Smartcar's dashboard; falls back to
            ``SMARTCAR_CLIENT_ID``.
        client_secret: The app's secret; falls back to
            ``SMARTCAR_CLIENT_SECRET``. Never shown or logged.
        redirect_uri: Where Connect sends the owner back; falls back to
            ``SMARTCAR_REDIRECT_URI``. Must match a registered URI exactly.
        test_mode: Deprecated; ``True`` means ``mode="test"``.
        mode: ``"live"``, ``"test"`` or ``"simulated"``.
        connect_origin: Where Connect lives; the sandbox's origin offline.
            Falls back to ``SMARTCAR_CONNECT_ORIGIN``, then to Smartcar's.

    Raises:
        ConfigurationError: A credential is missing, the mode is unknown or
            an argument name is misspelt.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        test_mode: bool | None = None,
        mode: str = "live",
        *,
        connect_origin: str | None = None,
        **unknown: Any,
    ) -> None:
        for name in unknown:
            raise ConfigurationError(
                f"AuthClient() got an unknown argument {name!r}."
                + _suggest(name, ARGUMENT_NAMES)
            )

        self.client_id = _from_env(client_id, "SMARTCAR_CLIENT_ID")
        self.client_secret = _from_env(client_secret, "SMARTCAR_CLIENT_SECRET")
        self.redirect_uri = _from_env(redirect_uri, "SMARTCAR_REDIRECT_URI")
        self.connect_origin = (
            connect_origin
            or os.environ.get("SMARTCAR_CONNECT_ORIGIN")
            or CONNECT_ORIGIN
        ).rstrip("/")
        self.mode = self._check_mode(mode, test_mode)

        for name, value in (
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
        ):
            if not value:
                variable = f"SMARTCAR_{name.upper()}"
                raise ConfigurationError(
                    f"No {name} was given: the argument {name}= was empty and "
                    f"the environment variable {variable} is not set. Pass "
                    f"{name}= or set {variable}; offline, use the sandbox's "
                    "demo credentials (start_sandbox())."
                )

    @staticmethod
    def _check_mode(mode: Any, test_mode: bool | None) -> str:
        if test_mode is not None:
            return "test" if test_mode else "live"
        if not isinstance(mode, str) or mode.lower() not in MODES:
            raise ConfigurationError(
                f"mode={mode!r} is not a Connect mode. Use one of "
                + ", ".join(repr(m) for m in MODES)
                + "; 'test' needs no real vehicle."
            )
        return mode.lower()

    def __repr__(self) -> str:
        return (
            f"AuthClient(client_id={self.client_id!r}, "
            f"redirect_uri={self.redirect_uri!r}, mode={self.mode!r})"
        )

    def get_auth_url(
        self,
        scope: Sequence[str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> str:
        """Return the Connect URL the vehicle owner should open.

        Args:
            scope: Permission names to ask for, such as
                ``["read_vehicle_info"]``; ``"required:"`` may prefix one.
            options: Any of ``force_prompt``, ``state``, ``make_bypass``,
                ``single_select`` (``{"enabled": bool, "vin": str}``),
                ``flags`` (a mapping) and ``user``.

        Returns:
            The URL, with parameters in the order and encoding of Smartcar's
            Python SDK.

        Raises:
            ConfigurationError: The scope or an option is malformed.
        """
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "approval_prompt": "auto",
            "mode": self.mode,
        }
        if self.redirect_uri:
            query["redirect_uri"] = self.redirect_uri
        if scope:
            query["scope"] = " ".join(_check_scope(scope))
        if options:
            query.update(_option_params(options, query["approval_prompt"]))
        return self.connect_origin + "/oauth/authorize?" + urlencode(query)


def _check_scope(scope: Any) -> list[str]:
    if isinstance(scope, str):
        raise ConfigurationError(
            f"scope={scope!r} is one string; pass a list of permission names, "
            f"such as {scope.split()!r}."
        )
    names = list(scope)
    for name in names:
        bare, _ = split_required(str(name))
        if bare not in PERMISSIONS:
            raise ConfigurationError(
                f"{name!r} is not a Smartcar permission."
                + _suggest(bare, list(PERMISSIONS))
                + " The full list is in smartcar_tutorial.PERMISSIONS."
            )
    return names


def _option_params(options: Mapping[str, Any], prompt: str) -> dict[str, str]:
    """Translate the options mapping into query parameters, in SDK order."""
    if not isinstance(options, Mapping):
        raise ConfigurationError(
            f"options={options!r} is not a mapping; pass a dict such as "
            "{'state': new_state()}."
        )
    for key in options:
        if key not in OPTION_KEYS:
            raise ConfigurationError(
                f"Unknown option {key!r}."
                + _suggest(str(key), OPTION_KEYS)
                + " Known options: "
                + ", ".join(OPTION_KEYS)
                + "."
            )

    params: dict[str, str] = {"approval_prompt": prompt}
    if options.get("force_prompt"):
        params["approval_prompt"] = "force"
    if options.get("state"):
        params["state"] = options["state"]
    if options.get("make_bypass"):
        params["make"] = options["make_bypass"]
    if options.get("single_select"):
        params.update(_single_select_params(options["single_select"]))
    if options.get("flags"):
        params["flags"] = _format_flags(options["flags"])
    if options.get("user"):
        params["user"] = options["user"]
    return params


def _single_select_params(single_select: Any) -> dict[str, str]:
    if not isinstance(single_select, Mapping):
        raise ConfigurationError(
            f"single_select={single_select!r} must be a mapping: use "
            "{'enabled': True} to let the owner pick one vehicle, or "
            "{'vin': '<17-character VIN>'} for a given one."
        )
    if single_select.get("vin"):
        return {"single_select_vin": single_select["vin"], "single_select": "true"}
    return {"single_select": "true" if single_select.get("enabled") else "false"}


def _format_flags(flags: Any) -> str:
    if not isinstance(flags, Mapping):
        raise ConfigurationError(
            f"flags={flags!r} must be a mapping of flag names to values, "
            "such as {'country': 'DE'}."
        )
    text = ""
    for name, value in flags.items():
        if type(value) is bool:
            value = str(value).lower()
        text += f"{name}:{value} "
    # Stripped as a whole, as the SDK does, so edge spaces match too.
    return text.strip()
