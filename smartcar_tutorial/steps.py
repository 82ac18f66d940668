"""One-line helpers the notebooks call, one per step of the flow.

Each helper is safe to call again: running a cell twice reuses the server
it started the first time instead of failing on a busy port. A notebook
that starts mid-way redoes the earlier steps with :func:`redo_steps`.

    steps = redo_steps()
    flow = start_flow(steps.client, ["read_vehicle_info"], steps.server)
    result = flow.wait(timeout=300)
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from . import where
from .auth_url import AuthClient, new_state
from .callback_server import CallbackServer, PendingFlow, check_redirect_uri
from .connection import Connection, use_smartcar
from .errors import ConfigurationError, PortInUseError, SandboxMovedWarning
from .ports import describe_port_holder, port_for_user
from .sandbox import DEMO_REDIRECT_URI, Sandbox, SimulatedOwner

logger = logging.getLogger(__name__)

AUTOPILOT_VARIABLE = "SMARTCAR_TUTORIAL_AUTOPILOT"
DECISIONS = ("approve", "deny", "exit")
SANDBOX_PORT = 8081
DEFAULT_SCOPE = ("read_vehicle_info", "read_odometer")

# One server per port for the life of the kernel, so re-run cells reuse them.
_sandboxes: dict[int, Sandbox] = {}
_callback_servers: dict[int | str, CallbackServer] = {}
# On a remote kernel: the port each wanted port became, for this user.
_user_ports: dict[int, int] = {}


def resolve_autopilot(autopilot: str | None = None) -> str | None:
    """Return who plays the vehicle owner: ``None`` for a real click.

    Falls back to the ``SMARTCAR_TUTORIAL_AUTOPILOT`` environment variable,
    so unattended runs (nbval, papermill, CI) need no edits.

    Raises:
        ConfigurationError: The value is not ``"approve"`` or ``"deny"``.
    """
    value = autopilot or os.environ.get(AUTOPILOT_VARIABLE) or None
    if value is not None and value not in DECISIONS:
        raise ConfigurationError(
            f"autopilot={value!r} is not a decision the simulated owner can "
            "make. Use 'approve', 'deny', 'exit' (leave Connect early), or None "
            f"(also via {AUTOPILOT_VARIABLE}) to click the link yourself."
        )
    return value


def start_sandbox(port: int = SANDBOX_PORT) -> Sandbox:
    """Start the offline stand-in for Smartcar, or return the running one.

    When ``port`` is taken, by another program or by the sandbox of another
    notebook's kernel, this sandbox listens on a free port instead and says
    so in a warning; every URL follows. Taking the port over would make the
    other kernel lose the codes and tokens its sandbox holds.
    """
    sandbox = _sandboxes.get(port)
    if sandbox is not None and sandbox.running:
        return sandbox
    try:
        sandbox = Sandbox(port=port).start()
    except PortInUseError:
        holder = describe_port_holder(port) or "another program"
        sandbox = Sandbox(port=0).start()
        # A warning, not a log line: the learner sees it under the cell.
        warnings.warn(
            f"Port {port} is held by {holder}, so this notebook's sandbox "
            f"listens on {sandbox.origin} instead; its links and its token "
            "endpoint use that address.",
            SandboxMovedWarning,
            stacklevel=2,
        )
    _sandboxes[port] = sandbox
    return sandbox


def start_callback_server(
    redirect_uri: str = DEMO_REDIRECT_URI, take_over: bool = True
) -> CallbackServer:
    """Start the kernel's server for ``/login`` and the redirect, or reuse it.

    The port and path come from ``redirect_uri``: the server never moves to
    another port, since Connect redirects to exactly that URI (on JupyterHub,
    another user may hold it: see :func:`local_redirect_uri`). Calling it
    again with the same URI returns the running server; with another URI on
    the same port the old server is stopped first. With ``take_over`` the
    server of another notebook's kernel on that port is asked to stop.

    Raises:
        PortInUseError: Another program holds the port, or (without
            ``take_over``) another notebook's kernel does.
    """
    check_redirect_uri(redirect_uri)
    redirect_uri = local_redirect_uri(redirect_uri)
    port = urlsplit(redirect_uri).port
    # Port 0 asks for any free port, so the URI, not the port, names the
    # server; `or 80` would also have turned port 0 into port 80.
    key: int | str = redirect_uri if port == 0 else (80 if port is None else port)
    server = _callback_servers.get(key)
    if server is not None and server.running:
        if port == 0 or server.redirect_uri == redirect_uri:
            return server
        server.stop()
    server = CallbackServer(redirect_uri).start(take_over=take_over)
    _callback_servers[key] = server
    return server


def local_redirect_uri(redirect_uri: str) -> str:
    """Return the redirect URI this user's callback server listens on.

    On a laptop that is ``redirect_uri`` itself. On JupyterHub the users'
    kernels may share one loopback, where port 8080 can be only one user's:
    the others get a port of their own (see
    :func:`~smartcar_tutorial.ports.port_for_user`), the same in each
    of their kernels. The browser never sees that port's number on
    ``localhost``: it reaches the server through the proxy.
    """
    parts = urlsplit(redirect_uri)
    wanted = parts.port
    if not wanted or not where.detect().remote or not where.is_loopback(parts.hostname):
        return redirect_uri
    if wanted not in _user_ports:
        _user_ports[wanted] = port_for_user(wanted)
    port = _user_ports[wanted]
    if port != wanted:
        logger.info(
            "Port %d is taken by someone else; this user's server uses %d", wanted, port
        )
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return parts._replace(netloc=f"{host}:{port}").geturl()


def start_flow(
    client: AuthClient,
    scope: Sequence[str],
    server: CallbackServer,
    *,
    autopilot: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> PendingFlow:
    """Begin one authorization: a fresh ``state``, its URL, a pending flow.

    ``/login`` on the callback server then redirects to this flow's URL. With
    an autopilot, a simulated owner walks the consent pages in the
    background, as a browser would.
    """
    if isinstance(scope, str) or not scope:
        raise ConfigurationError(
            f"scope={scope!r}: this step asks the owner for permissions, so pass "
            "a list with at least one, such as ['read_vehicle_info']."
        )
    state = new_state()
    auth_url = client.get_auth_url(list(scope), {**(options or {}), "state": state})
    flow = server.expect(state, auth_url)
    server.login_url = auth_url

    decision = resolve_autopilot(autopilot)
    if decision is not None and not _is_local(client.connect_origin):
        raise ConfigurationError(
            f"autopilot={decision!r} cannot click through {client.connect_origin}: "
            "the simulated owner only walks the sandbox's pages. With Smartcar, "
            "open the link and click yourself (autopilot=None, and unset "
            f"{AUTOPILOT_VARIABLE})."
        )
    if decision is not None:
        SimulatedOwner(decision).walk_in_background(auth_url)
        logger.info("The simulated owner will %s this flow", decision)
    return flow


def _is_local(origin: str) -> bool:
    return urlsplit(origin).hostname in ("localhost", "127.0.0.1", "::1")


class Steps(NamedTuple):
    """What Steps 0 and 1 set up: where Connect lives, the server, a client."""

    smartcar: Connection
    server: CallbackServer
    client: AuthClient

    @property
    def sandbox(self) -> Sandbox | None:
        """The sandbox in this kernel, or None when the flow goes to Smartcar."""
        return self.smartcar.sandbox  # type: ignore[return-value]


def redo_steps(
    redirect_uri: str | None = None,
    mode: str = "test",
    client_id: str | None = None,
) -> Steps:
    """Redo Steps 0 and 1 in one call, for notebooks that start mid-way.

    Uses Smartcar when your app's credentials are set (see
    :func:`~smartcar_tutorial.connection.use_smartcar`), the sandbox otherwise.
    """
    smartcar = use_smartcar(client_id, redirect_uri)
    server = start_callback_server(smartcar.redirect_uri)
    if smartcar.sandbox is not None:
        # A port-0 test server only knows its real redirect URI once started.
        smartcar.sandbox.register_redirect_uri(server.redirect_uri)
    client = AuthClient(
        smartcar.client_id,
        smartcar.client_secret,
        # Smartcar redirects only to the URI registered for the app; on a
        # remote kernel its answer comes back through the paste box.
        redirect_uri=smartcar.redirect_uri if smartcar.live else server.redirect_uri,
        mode=mode,
        connect_origin=smartcar.connect_origin,
    )
    return Steps(smartcar, server, client)
