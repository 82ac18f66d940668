"""Learn Smartcar's authorization flow step by step, offline or live.

    import smartcar_tutorial as sct

    sandbox = sct.start_sandbox()
    client = sct.AuthClient(sandbox.client_id, sandbox.client_secret,
                            redirect_uri="http://localhost:8080/callback",
                            mode="test", connect_origin=sandbox.origin)
    print(client.get_auth_url(["read_vehicle_info"]))
"""

import logging

from .auth_url import AuthClient, new_state
from .errors import (
    AuthorizationDeniedError,
    AuthorizationError,
    CallbackTimeoutError,
    ConfigurationError,
    PortInUseError,
    StateMismatchError,
    TutorialError,
)
from .permissions import PERMISSIONS, describe_permission
from .result import AuthorizationResult, parse_redirect, shorten

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "AuthClient",
    "AuthorizationDeniedError",
    "AuthorizationError",
    "AuthorizationResult",
    "CallbackTimeoutError",
    "ConfigurationError",
    "PERMISSIONS",
    "PortInUseError",
    "StateMismatchError",
    "TutorialError",
    "describe_permission",
    "new_state",
    "parse_redirect",
    "shorten",
]
