"""A simulated vehicle owner who clicks through the sandbox's Connect pages.

It reads each page as a browser would: it follows redirects, finds the
page's form, fills it in (a brand, an email and a password) and presses
Allow or Deny, or leaves at once by "Back to the app". When a redirect
leaves the sandbox it opens that address, the app's redirect URI, and
returns the answer, so a notebook can run the whole flow unattended.

    owner = SimulatedOwner("approve")
    response = owner.walk(auth_url)      # the callback server's reply
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import ConfigurationError, TutorialError

logger = logging.getLogger(__name__)

#: What the owner does: press Allow, press Deny, or leave by "Back to the app".
DECISIONS = {"approve": "allow", "deny": "deny", "exit": "exit"}
#: Pages and redirects one walk may take; Connect needs about ten.
MAX_STEPS = 25


class OwnerWalkError(TutorialError):
    """Raised when the simulated owner cannot get through Connect's pages."""


@dataclass
class _Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    input_types: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _PageParser(HTMLParser):
    """Collect a page's forms and its visible text, ``<main>``'s apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.text: list[str] = []
        self.main_text: list[str] = []
        self._skip = 0
        self._in_main = 0

    @property
    def summary(self) -> str:
        """The page's main text (all of it if it has no ``<main>``), shortened."""
        return " ".join(self.main_text or self.text)[:300]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag in ("style", "script", "title"):
            self._skip += 1
        elif tag == "main":
            self._in_main += 1
        elif tag == "form":
            method = attr.get("method", "get").lower()
            self.forms.append(_Form(attr.get("action", ""), method))
        elif self.forms and tag in ("input", "button"):
            self._add_control(self.forms[-1], tag, attr)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag == "main":
            self._in_main = max(0, self._in_main - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(data.strip())
            if self._in_main:
                self.main_text.append(data.strip())

    @staticmethod
    def _add_control(form: _Form, tag: str, attr: dict[str, str]) -> None:
        kind = attr.get("type", "submit" if tag == "button" else "text").lower()
        name = attr.get("name", "")
        if kind == "submit":
            form.buttons.append((name, attr.get("value", "")))
        elif name:
            form.input_types[name] = kind
            form.fields[name] = attr.get("value", "")


class SimulatedOwner:
    """Walks Connect's pages like a vehicle owner in a browser.

    Args:
        decision: ``"approve"`` to press Allow, ``"deny"`` to press Deny,
            ``"exit"`` to press "Back to the app" on the first page.
        email: Typed into the login form; in test mode any works.
        password: Typed into the login form.
        make: The brand to pick when Connect asks; the first one if None.
        timeout: Seconds the whole walk may take.
        headers: Sent with every request, such as the ``Authorization``
            that a Jupyter server's proxy asks for.

    Raises:
        ConfigurationError: ``decision`` is not "approve", "deny" or "exit".
    """

    def __init__(
        self,
        decision: str = "approve",
        email: str = "owner@example.com",
        password: str = "sandbox",
        make: str | None = None,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if decision not in DECISIONS:
            raise ConfigurationError(
                f"decision={decision!r} is not something the owner can do; "
                "use 'approve', 'deny' or 'exit'."
            )
        self.decision = decision
        self.email = email
        self.password = password
        self.make = make
        self.timeout = timeout
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"SimulatedOwner(decision={self.decision!r}, email={self.email!r})"

    def walk(self, auth_url: str) -> requests.Response:
        """Go through Connect from ``auth_url`` and open the app's redirect URI.

        Returns:
            The response of whatever serves the redirect URI (the callback
            server), after following its own redirects.

        Raises:
            OwnerWalkError: A page showed an error, had no form the owner
                understands, or the walk took too many steps or too long.
        """
        deadline = time.monotonic() + self.timeout
        root = _sandbox_root(auth_url)
        with requests.Session() as browser:
            # The owner's browser runs on this machine: no proxy in between.
            browser.trust_env = False
            browser.headers.update(self.headers)
            response = self._request(browser, "get", auth_url, deadline)
            for _ in range(MAX_STEPS):
                if response.is_redirect:
                    location = urljoin(response.url, response.headers["Location"])
                    if not _is_within(location, root):
                        return self._leave(browser, location, deadline)
                    response = self._request(browser, "get", location, deadline)
                else:
                    response = self._answer_page(browser, response, deadline)
        raise OwnerWalkError(
            f"The simulated owner took {MAX_STEPS} steps from {_where(auth_url)} "
            "without being sent back to the app. Check that the authorization "
            "URL points at the sandbox (connect_origin=sandbox.origin)."
        )

    def walk_in_background(self, auth_url: str) -> threading.Thread:
        """Start :meth:`walk` on a daemon thread and return the thread.

        A failure is logged (this logger, level ERROR), not raised.
        """

        def run() -> None:
            try:
                self.walk(auth_url)
            except TutorialError as exc:
                logger.error("The simulated owner could not finish Connect: %s", exc)
            except Exception:
                logger.exception("The simulated owner failed unexpectedly")

        thread = threading.Thread(
            target=run, name="smartcar-tutorial simulated owner", daemon=True
        )
        thread.start()
        return thread

    def _answer_page(
        self, browser: requests.Session, response: requests.Response, deadline: float
    ) -> requests.Response:
        """Fill in the page's form and submit it, as the owner would."""
        page = _PageParser()
        page.feed(response.text)
        page.close()
        summary = page.summary
        if response.status_code >= 400:
            raise OwnerWalkError(
                f"Connect showed an error page ({response.status_code}) at "
                f"{_where(response.url)}: {summary!r}"
            )

        for form in page.forms:
            data = self._fill(form)
            if data is not None:
                url = urljoin(response.url, form.action)
                logger.debug("Simulated owner submits the form at %s", _where(url))
                if form.method == "post":
                    return self._request(browser, "post", url, deadline, data=data)
                return self._request(browser, "get", url, deadline, params=data)
        raise OwnerWalkError(
            f"The page at {_where(response.url)} has no form the simulated owner "
            f"can fill in: {summary!r}"
        )

    def _fill(self, form: _Form) -> dict[str, str] | None:
        """Return what to submit for ``form``, or None if it is not understood."""
        data = dict(form.fields)
        names = {name for name, _ in form.buttons}
        if (self.decision == "exit") != ("exit" in names):
            # Only an owner who wants to leave presses "Back to the app".
            return None
        if self.decision == "exit":
            pressed = ("exit", dict(form.buttons)["exit"])
        elif "password" in form.input_types.values():
            for name, kind in form.input_types.items():
                if kind == "password":
                    data[name] = self.password
                elif kind in ("email", "text"):
                    data[name] = self.email
            pressed = form.buttons[0] if form.buttons else None
        elif "decision" in names:
            pressed = ("decision", DECISIONS[self.decision])
        elif "make" in names:
            makes = [value for name, value in form.buttons if name == "make"]
            wanted = (self.make or makes[0]).upper()
            if wanted not in makes:
                raise OwnerWalkError(
                    f"Connect offers no brand {self.make!r}; it offers "
                    + ", ".join(makes)
                    + ". Pass one of these as make=."
                )
            pressed = ("make", wanted)
        elif len(form.buttons) == 1:
            pressed = form.buttons[0]
        else:
            return None
        if pressed and pressed[0]:
            data[pressed[0]] = pressed[1]
        return data

    def _leave(
        self, browser: requests.Session, location: str, deadline: float
    ) -> requests.Response:
        """Open the app's redirect URI, as the browser does at the end."""
        if urlsplit(location).scheme not in ("http", "https"):
            raise ConfigurationError(
                f"Connect sent the owner to {_where(location)}, which a simulated "
                "owner cannot open. Use an http:// redirect URI, such as the "
                "callback server's."
            )
        logger.info("Simulated owner is sent back to %s", _where(location))
        browser.max_redirects = 5
        return self._request(browser, "get", location, deadline, allow_redirects=True)

    @staticmethod
    def _request(
        browser: requests.Session,
        method: str,
        url: str,
        deadline: float,
        allow_redirects: bool = False,
        **kwargs: object,
    ) -> requests.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OwnerWalkError(
                f"The simulated owner ran out of time before reaching "
                f"{_where(url)}. Pass a larger timeout= to SimulatedOwner()."
            )
        try:
            return browser.request(
                method,
                url,
                timeout=remaining,
                allow_redirects=allow_redirects,
                **kwargs,
            )
        except requests.RequestException as exc:
            # The exception's own text may quote the query, and with it a code.
            raise OwnerWalkError(
                f"The simulated owner could not open {_where(url)} "
                f"({type(exc).__name__}). Check that the server there is running."
            ) from exc


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _sandbox_root(auth_url: str) -> tuple[tuple[str, str], str]:
    """Return where the sandbox's pages live: origin, and the path above
    ``/oauth/authorize``.

    Behind jupyter-server-proxy the pages and the app's callback share one
    origin (``…/proxy/8081/…`` and ``…/proxy/8080/…``): the path tells them apart.
    """
    above, found, _ = urlsplit(auth_url).path.rpartition("/oauth/authorize")
    return _origin(auth_url), (above if found else "") + "/"


def _is_within(url: str, root: tuple[tuple[str, str], str]) -> bool:
    origin, path = root
    return _origin(url) == origin and urlsplit(url).path.startswith(path)


def _where(url: str) -> str:
    """Return ``url`` without its query, which may hold a code."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
