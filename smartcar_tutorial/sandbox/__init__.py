"""An offline stand-in for Smartcar, and an owner who clicks through Connect.

Start a sandbox, point an :class:`~smartcar_tutorial.AuthClient` at it, and
let a simulated owner press Allow; the code lands at the callback server.
The same sandbox exchanges the code for tokens and serves the vehicle API,
so Smartcar's own SDK works against it unchanged:

    with Sandbox() as sandbox:
        sandbox.register_redirect_uri(callback.redirect_uri)
        client = AuthClient(sandbox.client_id, sandbox.client_secret,
                            redirect_uri=callback.redirect_uri, mode="test",
                            connect_origin=sandbox.origin)
        SimulatedOwner("approve").walk(client.get_auth_url(["read_odometer"]))
        smartcar.config.AUTH_ORIGIN = sandbox.auth_origin   # then exchange_code
        smartcar.config.API_ORIGIN = sandbox.api_origin     # then get_vehicles
"""

from .grants import (
    ACCESS_TOKEN_LIFETIME,
    REFRESH_TOKEN_LIFETIME,
    Grant,
    TokenRejectedError,
)
from .owner import OwnerWalkError, SimulatedOwner
from .server import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    Sandbox,
)
from .store import CODE_LIFETIME, CodeRejectedError, IssuedCode, SandboxStore
from .vehicles import TEST_ACCOUNTS, DemoVehicle, vehicles_for

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "CODE_LIFETIME",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_REDIRECT_URI",
    "REFRESH_TOKEN_LIFETIME",
    "TEST_ACCOUNTS",
    "CodeRejectedError",
    "DemoVehicle",
    "Grant",
    "IssuedCode",
    "OwnerWalkError",
    "Sandbox",
    "SandboxStore",
    "SimulatedOwner",
    "TokenRejectedError",
    "vehicles_for",
]
