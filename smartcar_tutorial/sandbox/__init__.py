"""An offline stand-in for Smartcar Connect, and an owner who clicks through it.

Start a sandbox, point an :class:`~smartcar_tutorial.AuthClient` at it, and
let a simulated owner press Allow; the code lands at the callback server:

    with Sandbox() as sandbox:
        sandbox.register_redirect_uri(callback.redirect_uri)
        client = AuthClient(sandbox.client_id, sandbox.client_secret,
                            redirect_uri=callback.redirect_uri, mode="test",
                            connect_origin=sandbox.origin)
        SimulatedOwner("approve").walk(client.get_auth_url(["read_odometer"]))
"""

from .owner import OwnerWalkError, SimulatedOwner
from .server import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    Sandbox,
)
from .store import CODE_LIFETIME, CodeRejectedError, IssuedCode, SandboxStore

__all__ = [
    "CODE_LIFETIME",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_REDIRECT_URI",
    "CodeRejectedError",
    "IssuedCode",
    "OwnerWalkError",
    "Sandbox",
    "SandboxStore",
    "SimulatedOwner",
]
