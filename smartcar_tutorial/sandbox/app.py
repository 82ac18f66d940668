"""The sandbox's routes: Connect's pages, the token endpoint and the API.

    GET  /health                    JSON naming the service and its origin
    GET  /oauth/authorize?…         check the request, open a session, go to intro
    GET  /connect/<session>/<step>  show a page: intro, brand, login, permissions
    POST /connect/<session>/<step>  submit it: on to the next page, or to the app
    POST /oauth/token               codes and refresh tokens for tokens (token.py)
    GET  /v2.0/vehicles…            the vehicle API (api.py)

Links and ``Location`` headers between the pages are relative, so the pages
also work behind a proxy that adds a path prefix (jupyter-server-proxy).
Only the final redirect to the app's ``redirect_uri`` is absolute; reached
through jupyter-server-proxy, a ``localhost`` redirect URI becomes the
proxy's address of that port (:func:`~smartcar_tutorial.where.browser_location`),
which Smartcar itself never does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from ..httpserver import QuietHandler
from ..randomness import random_uuid
from ..result import shorten
from ..where import browser_location
from .api import answer_api_request, is_api_path
from .authorize import RejectedRequest, check_authorize_request, redirect_with
from .pages import BRANDS, describe_scope, render_page
from .store import DONE, STEPS, ConnectSession, SandboxStore
from .token import JsonReply, answer_token_request
from .vehicles import TEST_ACCOUNTS, special_account_error, vehicles_for

if TYPE_CHECKING:
    from .server import Sandbox

logger = logging.getLogger(__name__)

SERVICE = "smartcar-tutorial-sandbox"
MAX_FORM_BYTES = 16_384

# Smartcar's own wording, so the sandbox reads like the real thing.
DENIED_DESCRIPTION = "User denied access to application."
EXIT_DESCRIPTION = "The vehicle owner went back to the app before granting access."
TOKEN_PATH = "/oauth/token"

_SESSION_PATH = re.compile(r"/connect/([A-Za-z0-9_-]{1,64})/([a-z]{1,20})")


class SandboxHandler(QuietHandler):
    """Answers one request to the sandbox; state lives on the Sandbox."""

    @property
    def sandbox(self) -> Sandbox:
        return self.server.owner  # type: ignore[attr-defined]

    @property
    def store(self) -> SandboxStore:
        return self.sandbox.store

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        match = _SESSION_PATH.fullmatch(url.path)
        if url.path == "/health":
            self.send_json(200, {"service": SERVICE, "origin": self.sandbox.origin})
        elif is_api_path(url.path):
            self._send_reply(
                answer_api_request(
                    self.store,
                    url.path,
                    url.query,
                    self.headers.get("Authorization"),
                    self.headers.get("sc-unit-system"),
                )
            )
        elif url.path == TOKEN_PATH:
            self._send_token_error(
                405, "The token endpoint takes POST with a form body (RFC 6749 §3.2)."
            )
        elif url.path == "/oauth/authorize":
            self._authorize(url.query)
        elif match:
            self._with_session(*match.groups(), self._show)
        else:
            self._send_error_page(
                404, "Page not found", f"{url.path!r} is not a page here."
            )

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        match = _SESSION_PATH.fullmatch(path)
        if path == TOKEN_PATH:
            self._token()
        elif match is None:
            self._send_error_page(
                404, "Page not found", f"{path!r} is not a page here."
            )
        else:
            form = self._read_form()
            if form is not None:
                self._with_session(*match.groups(), lambda s: self._submit(s, form))

    def _token(self) -> None:
        """Exchange a code or a refresh token (RFC 6749 §4.1.3, §6)."""
        body = self._read_limited_body()
        if body is None:
            self._send_token_error(
                413, f"The token request is larger than {MAX_FORM_BYTES} bytes."
            )
            return
        self._send_reply(
            answer_token_request(
                self.store,
                self.headers.get("Authorization"),
                self.headers.get("Content-Type"),
                body,
            )
        )

    def _send_token_error(self, status: int, description: str) -> None:
        body = {"error": "invalid_request", "error_description": description}
        self._send_reply((status, body, {}))

    def _send_reply(self, reply: JsonReply) -> None:
        status, body, headers = reply
        self.send_json(
            status, body, {"sc-request-id": random_uuid("request-id"), **headers}
        )

    def _authorize(self, query: str) -> None:
        """Start Connect (RFC 6749 §4.1.1), or show why it cannot start."""
        try:
            request = check_authorize_request(query, self.store)
        except RejectedRequest as exc:
            logger.warning("Sandbox refused an authorization request: %s", exc.message)
            self._send_error_page(
                exc.status,
                exc.title,
                exc.message,
                hint="Connect shows this page instead of sending you back to the "
                "app, because it cannot trust this request.",
            )
            return

        session = self.store.open_session(
            request.client,
            request.redirect_uri,
            request.scope,
            request.state,
            request.mode,
            request.make,
            redirect_uri_sent=request.redirect_uri_sent,
        )
        logger.info(
            "Connect started for client %r in %s mode",
            session.client.client_id,
            session.mode,
        )
        self.send_redirect(f"../connect/{session.session_id}/intro", status=303)

    def _with_session(
        self, session_id: str, step: str, action: Callable[[ConnectSession], None]
    ) -> None:
        """Run ``action`` if ``step`` is the session's current page."""
        session = self.store.get_session(session_id)
        if session is None or step not in STEPS:
            self._send_error_page(
                404,
                "Page expired",
                "This Connect page has expired or never existed. Open the "
                "authorization link from the notebook again.",
            )
        elif session.finished:
            self._send_error_page(
                410,
                "Already finished",
                "You already answered this request, and the app got its answer. "
                "Open the authorization link again to start over.",
                mode=session.mode,
            )
        elif step != session.step:
            self.send_redirect(session.step, status=303)
        else:
            action(session)

    def _show(
        self, session: ConnectSession, status: int = 200, **extra: object
    ) -> None:
        context: dict[str, object] = {"session": session, "mode": session.mode}
        if session.step == "brand":
            context["brands"] = BRANDS
        elif session.step == "login":
            context.update(test_accounts=TEST_ACCOUNTS, email=None, message=None)
        elif session.step == "permissions":
            context["permissions"] = describe_scope(session.scope)
            context["vehicles"] = vehicles_for(session.make, session.mode)
        context.update(extra)
        self.send_html(status, render_page(f"{session.step}.html", **context))

    def _submit(self, session: ConnectSession, form: dict[str, str]) -> None:
        step = session.step
        if "exit" in form:
            self._exit(session)
        elif step == "intro":
            self._go_on(session, "login" if session.make else "brand")
        elif step == "brand":
            make = form.get("make", "").upper()
            if make in dict(BRANDS):
                self._go_on(session, "login", make=make)
            else:
                self._show(session, 400)
        elif step == "login":
            self._log_in(
                session, form.get("email", "").strip(), form.get("password", "")
            )
        elif form.get("decision") in ("allow", "deny"):
            self._decide(session, form["decision"])
        else:
            self._show(session, 400)

    def _log_in(self, session: ConnectSession, email: str, password: str) -> None:
        if not email or not password:
            self._show(
                session,
                400,
                email=email,
                message="Enter an email and a password; in test mode any will do.",
            )
            return

        test_error = special_account_error(email, session.make)
        if session.mode == "test" and test_error:
            if self.store.advance(session, "login", DONE, email=email):
                logger.info(
                    "Test account %r ends Connect with %s", email, test_error["error"]
                )
                self._back_to_app(session, test_error)
            return
        self._go_on(session, "permissions", email=email)

    def _exit(self, session: ConnectSession) -> None:
        """Send the owner back without a grant, as "Back to the app" does."""
        if self.store.advance(session, session.step, DONE):
            logger.info("Owner left Connect for %r", session.client.client_id)
            self._back_to_app(
                session,
                {
                    "error": "user_manually_returned_to_application",
                    "error_description": EXIT_DESCRIPTION,
                },
            )
        else:
            self.send_redirect(session.step, status=303)

    def _decide(self, session: ConnectSession, decision: str) -> None:
        """Send the owner back to the app with a code or an error (RFC 6749 §4.1.2)."""
        if not self.store.advance(session, "permissions", DONE):
            self.send_redirect("permissions", status=303)
            return

        client_id = session.client.client_id
        if decision == "allow":
            issued = self.store.issue_code(session)
            logger.info("Owner allowed %r; code %s", client_id, shorten(issued.code))
            self._back_to_app(session, {"code": issued.code})
        else:
            logger.info("Owner denied %r", client_id)
            self._back_to_app(
                session,
                {"error": "access_denied", "error_description": DENIED_DESCRIPTION},
            )

    def _go_on(self, session: ConnectSession, step: str, **changes: str) -> None:
        self.store.advance(session, session.step, step, **changes)
        logger.debug("Connect session moved on to %s", step)
        self.send_redirect(step, status=303)

    def _back_to_app(self, session: ConnectSession, params: dict[str, str]) -> None:
        location = redirect_with(
            session.redirect_uri, {**params, "state": session.state}
        )
        # Reached through jupyter-server-proxy, the browser is not on this
        # machine: send it to the proxy's address of the app's port instead.
        self.send_redirect(browser_location(location, self.headers))

    def _read_form(self) -> dict[str, str] | None:
        """Return the posted form's fields, or answer 413 and return None."""
        body = self._read_limited_body()
        if body is None:
            self._send_error_page(
                413,
                "Form not accepted",
                f"A form of {self.headers.get('Content-Length')!r} bytes is not "
                f"accepted here; forms are at most {MAX_FORM_BYTES} bytes.",
            )
            return None
        text = body.decode("utf-8", errors="replace")
        return dict(parse_qsl(text, keep_blank_values=True))

    def _read_limited_body(self) -> bytes | None:
        """Return the request body, or None when it is too large to read."""
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            self.close_connection = True
            return None
        return self.read_body()

    def _send_error_page(
        self, status: int, title: str, message: str, **context: object
    ) -> None:
        context.setdefault("hint", None)
        page = render_page("error.html", title=title, message=message, **context)
        self.send_html(status, page)
