"""Learn Smartcar's authorization flow step by step, offline or live.

import smartcar_tutorial as sct

sandbox = sct.start_sandbox()
client = sct.AuthClient(sandbox.client_id, sandbox.client_secret,
                        redirect_uri="http://localhost:8080/callback",
                        mode="test", connect_origin=sandbox.origin)
print(client.get_auth_url(["read_vehicle_info"]))
"""

import importlib
import logging

from .auth_url import AuthClient, new_state
from .errors import (
    AuthorizationDeniedError,
    AuthorizationError,
    CallbackTimeoutError,
    ConfigurationError,
    PortInUseError,
    SandboxMovedWarning,
    StateMismatchError,
    TutorialError,
)
from .permissions import PERMISSIONS, describe_permission
from .result import AuthorizationResult, parse_redirect, shorten

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

# Servers and widgets load on first use, so `import smartcar_tutorial` stays
# light for scripts that only build URLs.
_LAZY = {
    "CallbackServer": "callback_server",
    "PendingFlow": "callback_server",
    "Connection": "connection",
    "credentials_form": "credentials",
    "use_smartcar": "connection",
    "FlowWidget": "display",
    "link_button": "display",
    "Access": "tokens",
    "TokenError": "tokens",
    "exchange_code": "tokens",
    "refresh": "tokens",
    "redact": "explain",
    "show_request": "explain",
    "explain_auth_url": "explain",
    "peek": "explain",
    "Sandbox": "sandbox",
    "SimulatedOwner": "sandbox",
    "redo_steps": "steps",
    "start_callback_server": "steps",
    "start_flow": "steps",
    "start_sandbox": "steps",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Access",
    "AuthClient",
    "AuthorizationDeniedError",
    "AuthorizationError",
    "AuthorizationResult",
    "CallbackServer",
    "CallbackTimeoutError",
    "ConfigurationError",
    "Connection",
    "FlowWidget",
    "PERMISSIONS",
    "PendingFlow",
    "PortInUseError",
    "Sandbox",
    "SandboxMovedWarning",
    "SimulatedOwner",
    "StateMismatchError",
    "TokenError",
    "TutorialError",
    "credentials_form",
    "describe_permission",
    "exchange_code",
    "explain_auth_url",
    "link_button",
    "new_state",
    "parse_redirect",
    "peek",
    "redact",
    "redo_steps",
    "refresh",
    "shorten",
    "show_request",
    "start_callback_server",
    "start_flow",
    "start_sandbox",
    "use_smartcar",
]
