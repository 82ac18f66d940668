"""Who holds a loopback port, and asking our own servers to hand one over.

Every server of this package answers ``GET /health`` with its service name,
process and user, so a busy port can be explained ("the callback server of
the kernel running 02-consent.ipynb"), and ``POST /handover`` with the
header below, so a newer kernel of the same user can take the port over. On
a hub whose users share one loopback, each user gets ports of their own.

    if not is_free(8080):
        print(describe_port_holder(8080))
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import urllib.request

from . import where
from .errors import PortInUseError

HANDOVER_PATH = "/handover"
HANDOVER_HEADER = "X-Smartcar-Tutorial-Handover"
SERVICE_PREFIX = "smartcar-tutorial-"


def read_health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/health", timeout=1
        ) as response:
            health = json.loads(response.read(4096))
    except (OSError, ValueError):
        return None
    return health if isinstance(health, dict) else None


def is_held_by_this_process(port: int) -> bool:
    health = read_health(port)
    return health is not None and health.get("pid") == os.getpid()


def is_held_by_this_user(port: int) -> bool:
    """True when this package's server on ``port`` belongs to this user.

    Kernels of one user hand ports over to each other; on a hub whose users
    share one loopback, another user's server is never asked to stop.
    """
    health = read_health(port)
    if health is None or not str(health.get("service", "")).startswith(SERVICE_PREFIX):
        return False
    return health.get("user", where.current_user()) == where.current_user()


def is_free(port: int) -> bool:
    """True when nothing listens on ``port`` of the IPv4 loopback."""
    with socket.socket() as probe:
        if sys.platform != "win32":  # as the servers do: TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


#: Ports tried for one user when the wanted one is another's (see below).
USER_PORTS = range(20000, 30000)
USER_PORT_TRIES = 20


def port_for_user(wanted: int, user: str | None = None) -> int:
    """Return ``wanted`` when free or this user's, else a port of the user's own.

    On JupyterHub with a local spawner every user's kernels share one
    loopback, so port 8080 can only be one user's. The others get ports
    derived from their name: the same in each of their kernels, so one
    notebook's server hands the port to the next as on a laptop. Ports
    held by anyone else are skipped.

    Raises:
        PortInUseError: None of the candidate ports is free.
    """
    user = user or where.current_user()
    start = int(hashlib.sha256(user.encode()).hexdigest(), 16) % len(USER_PORTS)
    candidates = [wanted] + [
        USER_PORTS[(start + step) % len(USER_PORTS)] for step in range(USER_PORT_TRIES)
    ]
    for port in candidates:
        if is_free(port) or is_held_by_this_user(port):
            return port
    raise PortInUseError(
        f"Port {wanted} and the {USER_PORT_TRIES} ports tried for user {user!r} "
        "are all taken. Ask the facilitator to check the hub's ports "
        "(python -m smartcar_tutorial doctor)."
    )


def describe_port_holder(port: int) -> str | None:
    """Name the server on ``port`` if it is one of this package's, else None."""
    health = read_health(port)
    if health is None:
        return None
    service = str(health.get("service", ""))
    if not service.startswith(SERVICE_PREFIX):
        return None

    kind = service.removeprefix(SERVICE_PREFIX).replace("-", " ") or "server"
    where = health.get("redirect_uri") or health.get("origin")
    text = f"the smartcar-tutorial {kind}" + (f" for {where}" if where else "")
    if health.get("notebook"):
        text += f" of the kernel running {health['notebook']}"
    if health.get("pid"):
        text += f" (process {health['pid']})"
    return text


def request_handover(port: int) -> bool:
    """Ask this package's server on ``port`` to stop; True if it agreed."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{HANDOVER_PATH}",
        method="POST",
        headers={HANDOVER_HEADER: "1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 202
    except OSError:
        return False
