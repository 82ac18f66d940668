"""Where the kernel runs, and the addresses a browser uses to reach it.

On a laptop the browser and the kernel share one machine, so the sandbox
is at ``http://localhost:8081`` and the callback at ``http://localhost:8080``,
as the notebooks say. On JupyterHub and Binder the kernel runs in a
container far from the browser, where ``localhost`` is the learner's own
laptop. There jupyter-server-proxy carries the browser to a kernel's port
at ``<server prefix>proxy/<port>/``, and this module builds those addresses.

    where = detect()
    where.browser_url("http://localhost:8081/oauth/authorize?client_id=a")
    # a laptop: unchanged; JupyterHub: "/user/alice/proxy/8081/oauth/authorize?…"

Servers ask :func:`browser_location` where to send a browser that reached
them through the proxy, and :func:`is_forwarded_elsewhere` whether a
request came through another user's server. Standard library only.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

#: A facilitator's override: the Jupyter server's address as the browser
#: sees it, such as ``https://hub.example.org/user/alice/``.
PUBLIC_BASE_VARIABLE = "SMARTCAR_TUTORIAL_PUBLIC_BASE"
BINDER_VARIABLES = (
    "BINDER_LAUNCH_HOST",
    "BINDER_REPO_URL",
    "BINDER_REF_URL",
    "BINDER_REQUEST",
    "BINDER_PERSISTENT_REQUEST",
)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

# jupyter-server-proxy's X-Forwarded-Prefix, e.g. "/user/alice/proxy/8081"
# (or "/proxy/localhost:8081" for a host:port route).
_FORWARDED_PREFIX = re.compile(r"(?P<server>/(?:.*/)?)proxy/(?:[^/]+:)?\d+/?")


@dataclass(frozen=True)
class Where:
    """Where this kernel runs, as far as the kernel can tell.

    Attributes:
        kind: ``"laptop"``, ``"jupyterhub"``, ``"binder"`` or ``"configured"``
            (set by ``SMARTCAR_TUTORIAL_PUBLIC_BASE``).
        prefix: The Jupyter server's path as the browser sees it, such as
            ``/user/alice/``; ``/`` on a laptop.
        public_base: The server's absolute address, when known.
        user: Who the server belongs to; kernels of other users may share
            this machine's loopback.
    """

    kind: str
    prefix: str = "/"
    public_base: str | None = None
    user: str | None = None

    @property
    def remote(self) -> bool:
        """True when the browser cannot reach this kernel's ``localhost``."""
        return self.kind != "laptop"

    def proxy_path(self, url: str) -> str | None:
        """Return ``proxy/<port>/<path>?<query>`` for a kernel-local URL.

        The path is relative to the server's prefix; None when ``url`` is
        not an ``http://`` address on this machine's loopback.
        """
        parts = urlsplit(url)
        if parts.scheme != "http" or not is_loopback(parts.hostname):
            return None
        port = parts.port or 80
        query = f"?{parts.query}" if parts.query else ""
        return f"proxy/{port}{parts.path or '/'}{query}"

    def browser_url(self, url: str) -> str:
        """Return the address a learner's browser opens for ``url``.

        On a laptop, and for addresses elsewhere (Smartcar's), ``url`` is
        returned as it is. On a remote kernel a ``http://localhost:<port>``
        address becomes the proxy's: absolute when the server's public
        address is known, otherwise root-relative, which a link in the
        notebook page resolves against the address bar.
        """
        path = self.proxy_path(url) if self.remote else None
        if path is None:
            return url
        if self.public_base:
            return self.public_base + path
        return self.prefix + path

    def describe(self) -> str:
        """Say in one sentence where the kernel runs and how links reach it."""
        if not self.remote:
            return (
                "This kernel runs on the machine of your browser: links go to "
                "http://localhost:<port> directly."
            )
        name = {"jupyterhub": "JupyterHub", "binder": "Binder"}.get(
            self.kind, "a remote server"
        )
        return (
            f"This kernel runs on {name}, far from your browser: links to its "
            f"ports go through {self.public_base or self.prefix}proxy/<port>/."
        )


def detect(environ: Mapping[str, str] | None = None) -> Where:
    """Tell where the kernel runs from the environment that Jupyter sets.

    JupyterHub sets ``JUPYTERHUB_SERVICE_PREFIX`` (and
    ``JUPYTERHUB_PUBLIC_URL`` when the hub knows its public address), and
    Binder adds ``BINDER_*`` variables. ``SMARTCAR_TUTORIAL_PUBLIC_BASE``
    overrides both, for servers that set neither (a remote ``jupyter lab``).
    """
    env = os.environ if environ is None else environ
    user = current_user(env)

    override = (env.get(PUBLIC_BASE_VARIABLE) or "").strip()
    if override:
        base = override if override.endswith("/") else override + "/"
        return Where("configured", urlsplit(base).path or "/", base, user)

    binder = any(env.get(name) for name in BINDER_VARIABLES)
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX") or ""
    if prefix:
        prefix = "/" + prefix.strip("/") + "/"
        public = env.get("JUPYTERHUB_PUBLIC_URL") or None
        if public and not public.endswith("/"):
            public += "/"
        return Where("binder" if binder else "jupyterhub", prefix, public, user)
    if binder:
        return Where("binder", "/", None, user)
    return Where("laptop", "/", None, user)


def current_user(environ: Mapping[str, str] | None = None) -> str:
    """Return who owns this kernel: the hub's user name, else the login name."""
    env = os.environ if environ is None else environ
    if env.get("JUPYTERHUB_USER"):
        return env["JUPYTERHUB_USER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid, as in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def is_loopback(host: str | None) -> bool:
    """True for ``localhost``, ``127.0.0.1`` and ``::1``."""
    return (host or "").lower().strip("[]") in LOOPBACK_NAMES


def browser_location(location: str, headers: Mapping[str, str]) -> str:
    """Return where to send a browser that reached a server through the proxy.

    A redirect to ``http://localhost:<port>/…`` is right for a browser on
    the kernel's machine. When the request came through jupyter-server-proxy
    (it says so in ``X-Forwarded-Prefix``, e.g. ``/user/alice/proxy/8081``),
    the browser is elsewhere: the answer is the proxy's address of that port,
    absolute, for the address in the learner's address bar. jupyter-server-
    proxy leaves absolute addresses alone, whereas a root-relative one to
    another port would get its prefix twice.

    Other redirects (Smartcar's, an https URI) are returned unchanged.

    Args:
        location: The kernel-local address to redirect to.
        headers: The request's headers.
    """
    target = urlsplit(location)
    if target.scheme != "http" or not is_loopback(target.hostname):
        return location
    match = _FORWARDED_PREFIX.fullmatch(headers.get("X-Forwarded-Prefix") or "")
    if match is None:
        return location

    scheme, host = _browser_origin(headers)
    path = f"{match['server']}proxy/{target.port or 80}{target.path or '/'}"
    return urlunsplit((scheme, host, path, target.query, target.fragment))


def _browser_origin(headers: Mapping[str, str]) -> tuple[str, str]:
    """Return the scheme and host of the learner's address bar.

    The browser's own ``Origin`` (sent with every form POST) is the most
    faithful; then what proxies in front reported (CHP adds
    ``X-Forwarded-Proto`` and ``-Host``, as comma lists, the browser-side
    value first); then ``Host``, over plain http, which is a guess.
    """
    origin = urlsplit(headers.get("Origin") or "")
    if origin.scheme in ("http", "https") and origin.netloc:
        return origin.scheme, origin.netloc

    def first(name: str) -> str:
        return (headers.get(name) or "").split(",")[0].strip()

    scheme = first("X-Forwarded-Proto").lower()
    if scheme not in ("http", "https"):
        scheme = "http"
    return scheme, first("X-Forwarded-Host") or first("Host") or "localhost"


def is_forwarded_elsewhere(headers: Mapping[str, str], where: Where) -> bool:
    """True when a request came through another user's Jupyter server.

    On a hub whose users share one loopback, Bob's proxy reaches any port
    on it, Alice's kernel's included; the prefix jupyter-server-proxy sends
    then names Bob's server, not Alice's.
    """
    forwarded = headers.get("X-Forwarded-Prefix")
    if not forwarded or where.kind not in ("jupyterhub", "binder"):
        return False
    return not (forwarded.rstrip("/") + "/").startswith(where.prefix)
