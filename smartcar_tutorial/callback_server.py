"""The kernel's callback server: where Connect sends the browser back.

After the owner answers, Connect redirects the browser to the app's
redirect URI with a ``code`` (or an ``error``) and the ``state`` the app
sent (Step 3). This server listens on that URI's port and path, parses the
answer with :func:`~smartcar_tutorial.result.parse_redirect`, and completes
the :class:`~smartcar_tutorial.flow.PendingFlow` waiting for that state.

    with CallbackServer("http://localhost:8080/callback") as server:
        flow = server.expect(state, auth_url)
        result = flow.wait(timeout=300)

Routes:

* ``GET <redirect URI path>``: the answer; a success or an error page.
* ``GET /login``: a 302 to :attr:`CallbackServer.login_url`, once set.
* ``GET /health``: JSON naming this service and its redirect URI.
* Anything else, ``HEAD`` and ``OPTIONS`` never complete a flow.
"""

from __future__ import annotations

import html
import logging
import threading
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from .errors import ConfigurationError
from .flow import PendingFlow
from .httpserver import LOOPBACK, BackgroundServer, QuietHandler
from .result import AuthorizationResult, parse_redirect, shorten
from .where import browser_location

__all__ = ["DEFAULT_REDIRECT_URI", "CallbackServer", "PendingFlow"]

logger = logging.getLogger(__name__)

DEFAULT_REDIRECT_URI = "http://localhost:8080/callback"
SERVICE_NAME = "smartcar-tutorial-callback-server"


class CallbackServer(BackgroundServer):
    """Receive Connect's redirects and hand each to the flow awaiting it.

    Args:
        redirect_uri: The app's redirect URI; the server listens on its
            port (80 if none) and answers at its path. Port 0 picks a free
            port, and :attr:`redirect_uri` then shows the real one once
            started.
        host: The address to bind; loopback unless told otherwise.

    Attributes:
        login_url: Where ``GET /login`` sends the browser; set it to the
            auth URL so a short, memorable address opens Connect.
        flows: The flows by ``state``, done ones included.

    Raises:
        ConfigurationError: ``redirect_uri`` is not a plain ``http://`` URL.
    """

    def __init__(
        self, redirect_uri: str = DEFAULT_REDIRECT_URI, host: str = LOOPBACK
    ) -> None:
        parts = check_redirect_uri(redirect_uri)
        super().__init__(
            _CallbackHandler,
            port=parts.port if parts.port is not None else 80,
            host=host,
            name="callback server",
        )
        self._parts = parts
        self.callback_path = parts.path or "/"
        self.login_url: str | None = None
        self.flows: dict[str, PendingFlow] = {}
        self._flows_lock = threading.Lock()

    @property
    def redirect_uri(self) -> str:
        """The redirect URI, with the real port once a port-0 server runs."""
        if self.requested_port != 0 or not self.running:
            return urlunsplit(self._parts)
        host = self._parts.netloc.rsplit(":", 1)[0]
        return urlunsplit(self._parts._replace(netloc=f"{host}:{self.port}"))

    def expect(self, state: str, auth_url: str | None = None) -> PendingFlow:
        """Register a flow awaiting the redirect that carries ``state``.

        A flow already registered under the same ``state`` is replaced: the
        next answer for that state goes to the new one.

        Args:
            state: The ``state`` sent in the auth URL (RFC 6749 §10.12).
            auth_url: The link the owner will open; widgets show it.

        Returns:
            The new pending flow.

        Raises:
            ConfigurationError: ``state`` is empty.
        """
        if not state or not isinstance(state, str):
            raise ConfigurationError(
                f"state={state!r} cannot identify a flow. Make one with "
                "new_state() and send it in the auth URL."
            )
        flow = PendingFlow(state, auth_url, redirect_uri=self.redirect_uri)
        with self._flows_lock:
            replaced = self.flows.get(state)
            self.flows[state] = flow
        if replaced is not None and not replaced.done:
            logger.info("A new flow replaces the one still waiting for %r", state)
        logger.debug("Expecting a redirect to %s for %r", self.redirect_uri, state)
        return flow

    def find(self, state: str | None) -> PendingFlow | None:
        """Return the flow registered for ``state``, or None."""
        if not state:
            return None
        with self._flows_lock:
            return self.flows.get(state)

    def pending(self) -> list[PendingFlow]:
        """Return the flows still waiting for their redirect."""
        with self._flows_lock:
            return [flow for flow in self.flows.values() if not flow.done]

    def hand_over(self) -> None:
        """Stop for a newer server in another kernel, telling waiting flows."""
        for flow in self.pending():
            flow.notify(
                f"Another notebook's kernel took port {self.port} over, so this "
                "flow can no longer receive its answer. Run the cell that starts "
                "the server and the flow again to take the port back."
            )
        super().hand_over()

    def __repr__(self) -> str:
        status = "running" if self.running else "stopped"
        if self.running and self.took_over_from:
            status += f"; took the port over from {self.took_over_from}"
        return f"CallbackServer({self.redirect_uri!r}, {status})"


def check_redirect_uri(redirect_uri: str) -> SplitResult:
    """Split ``redirect_uri`` if a callback server can listen for it.

    Raises:
        ConfigurationError: It is not a plain ``http://`` URL with a valid
            port and no fragment.
    """
    parts = urlsplit(redirect_uri)
    problem = None
    if parts.scheme != "http" or not parts.hostname:
        problem = "is not an http:// address"
    elif parts.fragment:
        problem = "has a #fragment, which OAuth forbids (RFC 6749 §3.1.2)"
    else:
        try:
            _ = parts.port
        except ValueError:
            problem = "has a port that is not a number from 0 to 65535"
    if problem:
        raise ConfigurationError(
            f"The redirect URI {redirect_uri!r} {problem}. The callback server "
            f"listens on this machine over plain http: use an address such as "
            f"{DEFAULT_REDIRECT_URI!r}, registered for your app."
        )
    return parts


class _CallbackHandler(QuietHandler):
    server_version = "smartcar-tutorial-callback"

    @property
    def owner(self) -> CallbackServer:
        return self.server.owner  # type: ignore[attr-defined, return-value]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line holds the full code: log parameter names only.
        path, _, query = self.path.partition("?")
        names = sorted({name for name, _ in parse_qsl(query, keep_blank_values=True)})
        logger.debug(
            "%s %s %s (parameters: %s) %s",
            self.address_string(),
            self.command,
            path,
            ", ".join(names) or "none",
            getattr(code, "value", code),
        )

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == self.owner.callback_path:
            self._receive(query)
        elif path == "/health":
            health = self.owner.health()
            health.update(service=SERVICE_NAME, redirect_uri=self.owner.redirect_uri)
            self.send_json(200, health)
        elif path == "/login":
            self._login()
        elif path == "/favicon.ico":
            self.send_body(404, b"", "text/plain")
        else:
            self._not_found()

    def do_HEAD(self) -> None:
        # Link checkers and previews may probe the address: answer, never consume.
        path = self.path.partition("?")[0]
        if path in (self.owner.callback_path, "/health", "/login"):
            self.send_html(200, "")
        else:
            self.send_body(404, b"", "text/plain")

    def do_OPTIONS(self) -> None:
        self.send_body(204, b"", "text/plain", {"Allow": "GET, HEAD, OPTIONS"})

    def _receive(self, query: str) -> None:
        try:
            result = parse_redirect("?" + query)
        except ConfigurationError:
            logger.warning("A request reached the callback with neither code nor error")
            self.send_html(400, nothing_page())
            return

        flow = self.owner.find(result.state)
        if flow is None:
            self._refuse(result)
            return

        if flow.complete(result):
            what = f"code {shorten(result.code)}" if result.ok else result.error
            logger.info("Callback received for %r: %s", flow.state, what)
            self.send_html(200, answer_page(result))
            return

        # A reload or a second tab: answer as before, keep the first result.
        first = flow.result or result
        logger.info("Ignored a repeated redirect for %r; kept the first", flow.state)
        self.send_html(200, answer_page(first, repeated=True))

    def _refuse(self, result: AuthorizationResult) -> None:
        pending = self.owner.pending()
        logger.warning(
            "Ignored a redirect whose state %r matches no flow (%d waiting)",
            (result.state or "")[:40] or None,
            len(pending),
        )
        for flow in pending:
            flow.notify(
                "An answer whose state matches no link reached the callback and "
                "was refused (a stale tab or a forged link). This flow still "
                "waits for its own answer."
            )
        self.send_html(400, state_mismatch_page(result.state))

    def _login(self) -> None:
        if self.owner.login_url:
            # Through jupyter-server-proxy, the sandbox is reached the same way.
            self.send_redirect(browser_location(self.owner.login_url, self.headers))
            return
        self.send_html(
            404,
            render_page(
                "No link yet",
                ["Step 1 sets where /login sends you.", _BACK_TO_NOTEBOOK],
                kind="notice",
            ),
        )

    def _not_found(self) -> None:
        self.send_html(
            404,
            render_page(
                "Not found",
                [
                    (
                        "This is the notebook's callback server. Connect sends "
                        f"the browser to {self.owner.callback_path}; nothing "
                        "lives here."
                    ),
                    _BACK_TO_NOTEBOOK,
                ],
                kind="notice",
            ),
        )


# Pages -----------------------------------------------------------------

_BACK_TO_NOTEBOOK = "Go back to the notebook; you can close this tab."

_COLOURS = {"success": "#1a7f37", "error": "#b42318", "notice": "#555"}


def render_page(title: str, paragraphs: list[str], kind: str = "notice") -> str:
    """Return a small standalone HTML page; every string is escaped.

    Args:
        title: The heading and the tab's title.
        paragraphs: Plain-text paragraphs, shown in order.
        kind: ``"success"``, ``"error"`` or ``"notice"``; sets the colour.
    """
    colour = _COLOURS.get(kind, _COLOURS["notice"])
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;"
        "padding:0 1em;line-height:1.5}"
        f"h1{{color:{colour};border-left:.3em solid {colour};padding-left:.5em}}"
        "</style></head>"
        f"<body class='{html.escape(kind)}'><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )


def answer_page(result: AuthorizationResult, repeated: bool = False) -> str:
    """Return the page for an accepted answer: a code or an error.

    Only a shortened code is shown: the browser's history keeps the full
    one in the address bar already, and the page need not copy it.
    """
    again = (
        ["This answer had already reached the notebook; it keeps the first one."]
        if repeated
        else []
    )
    if result.ok:
        return render_page(
            "Code received",
            [
                (
                    f"Connect sent an authorization code ({shorten(result.code)}) "
                    "and the notebook has it."
                ),
                *again,
                (
                    "Go back to the notebook to exchange it for tokens; "
                    "you can close this tab."
                ),
            ],
            kind="success",
        )
    return render_page(
        "Connect sent an error",
        [result.explain(), *again, _BACK_TO_NOTEBOOK],
        kind="error",
    )


def state_mismatch_page(state: str | None) -> str:
    """Return the 400 page for an answer whose state matches no flow."""
    if state:
        what = f"The state in this address ({state[:80]!r}) did not match"
    else:
        what = "This address carries no state, so it did not match"
    return render_page(
        "State did not match",
        [
            (
                f"{what} any link the notebook made, so the answer was not "
                "accepted: a forged or stale answer must not reach the app "
                "(RFC 6749 §10.12)."
            ),
            (
                "Go back to the notebook, run the cell that makes the link "
                "again, and open the new link."
            ),
        ],
        kind="error",
    )


def nothing_page() -> str:
    """Return the 400 page for a request with neither a code nor an error."""
    return render_page(
        "Nothing to receive",
        [
            (
                "This address carries neither a code nor an error. Connect "
                "sends the browser here after the owner answers; open the link "
                "from the notebook rather than this address."
            ),
            _BACK_TO_NOTEBOOK,
        ],
        kind="error",
    )
