"""Tables that explain, parameter by parameter, what a URL carries.

>>> table = explain_auth_url(
...     "https://connect.smartcar.com/oauth/authorize?response_type=code&mode=test")
>>> [row[0] for row in table.rows]
['response_type', 'mode']
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .permissions import describe_permission
from .result import shorten

MEANINGS = {
    "response_type": "Always 'code': Connect answers with an authorization code.",
    "client_id": "Your app's id, so Connect knows who is asking.",
    "approval_prompt": "'force' shows the consent pages even to an owner who "
    "already agreed; 'auto' may skip them.",
    "mode": "'test' uses made-up vehicles, 'simulated' Smartcar's simulator, "
    "'live' real cars.",
    "redirect_uri": "Where Connect sends the owner back; must match a URI "
    "registered for the app exactly.",
    "scope": "The permissions asked for, separated by spaces.",
    "state": "A random value Connect echoes back, so your server can tell its "
    "own answer from a forged one.",
    "make": "Skips the brand picker for this car maker.",
    "single_select_vin": "Only the vehicle with this VIN may be shared.",
    "single_select": "'true' lets the owner share one vehicle only.",
    "flags": "Early-access features, as name:value pairs.",
    "user": "Your own id for this owner, for Smartcar's analytics.",
}


_LEFT = " style='text-align:left'"  # JupyterLab right-aligns table cells


@dataclass(frozen=True)
class ParameterTable:
    """The parameters of a URL, each with what it means."""

    origin: str
    path: str
    rows: list[tuple[str, str, str]]

    def __repr__(self) -> str:
        width = max((len(name) for name, _, _ in self.rows), default=0)
        lines = [f"{self.origin}{self.path}"]
        lines += [
            f"  {n:<{width}}  {v}\n  {'':<{width}}  ↳ {m}" for n, v, m in self.rows
        ]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        lines = [f"`{self.origin}{self.path}`", "", "| parameter | value | meaning |"]
        lines.append("|---|---|---|")
        for name, value, meaning in self.rows:
            cell = value.replace("|", "\\|")
            lines.append(f"| `{name}` | `{cell}` | {meaning} |")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td{_LEFT}><code>{html.escape(n)}</code></td>"
            f"<td{_LEFT}><code>{html.escape(v)}</code></td>"
            f"<td{_LEFT}>{html.escape(m)}</td></tr>"
            for n, v, m in self.rows
        )
        return (
            f"<p><code>{html.escape(self.origin + self.path)}</code></p>"
            f"<table><thead><tr><th{_LEFT}>parameter</th><th{_LEFT}>value</th>"
            f"<th{_LEFT}>meaning</th>"
            f"</tr></thead><tbody>{body}</tbody></table>"
        )


def explain_auth_url(url: str) -> ParameterTable:
    """Return a table of the URL's parameters, decoded, with their meanings."""
    parts = urlsplit(url)
    rows = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        meaning = MEANINGS.get(name, "Passed on as it is.")
        if name == "scope":
            meaning += (
                " Here: "
                + "; ".join(describe_permission(p).lower() for p in value.split())
                + "."
            )
        rows.append((name, value, meaning))
    return ParameterTable(f"{parts.scheme}://{parts.netloc}", parts.path, rows)


@dataclass(frozen=True)
class Peek:
    """What a server answered to one request, as a browser would see it."""

    url: str
    status: int
    reason: str
    location: str | None
    title: str | None
    text: str

    def __repr__(self) -> str:
        line = f"{self.status} {self.reason}"
        if self.location:
            return f"{line}\n→ Location: {self.location}"
        return "\n".join(part for part in (line, self.title, self.text) if part)


def peek(url: str, timeout: float = 10) -> Peek:
    """GET ``url`` without following redirects and summarise the answer.

    Shows where a redirect points, or a page's title and first words, so a
    learner sees what their browser would be told.
    """
    import requests  # here, so that the pure helpers above import nothing heavy

    response = requests.get(url, allow_redirects=False, timeout=timeout)
    title, text = _page_title_and_text(response.text)
    return Peek(
        url,
        response.status_code,
        response.reason,
        response.headers.get("Location"),
        title,
        text,
    )


class _PageText(HTMLParser):
    """Collects a page's title and its visible words."""

    def __init__(self) -> None:
        super().__init__()
        self.title: str | None = None
        self.words: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in VOID_TAGS:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        inside = self._open[-1] if self._open else ""
        if inside == "title":
            self.title = data.strip()
        elif inside not in ("style", "script", "head") and data.strip():
            self.words.append(" ".join(data.split()))


VOID_TAGS = {"meta", "link", "br", "input", "img", "hr"}


def _page_title_and_text(page: str, limit: int = 300) -> tuple[str | None, str]:
    parser = _PageText()
    parser.feed(page)
    words = parser.words
    if parser.title and words and words[0] == parser.title:
        words = words[1:]  # the heading repeats the title
    text = " ".join(words)
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return parser.title, text


#: Keys whose values are shortened wherever this module shows them.
SECRET_KEYS = {"access_token", "refresh_token", "client_secret", "code"}


def redact(data: Any) -> Any:
    """Return ``data`` with token and secret values shortened, recursively.

    >>> redact({"access_token": "9f86d081884c7d65", "expires_in": 7200})
    {'access_token': '9f86…', 'expires_in': 7200}
    """
    if isinstance(data, dict):
        return {
            key: shorten(value)
            if key in SECRET_KEYS and isinstance(value, str)
            else redact(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact(item) for item in data]
    return data


SHOWN_HEADERS = {"authorization", "content-type", "content-length"}


@dataclass(frozen=True)
class RequestView:
    """An HTTP request as it went over the wire, secrets hidden."""

    method: str
    url: str
    headers: dict[str, str]
    body: str

    def __repr__(self) -> str:
        head = [f"{self.method} {self.url}"]
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        return "\n".join(head) + ("\n\n" + self.body if self.body else "")


def show_request(request: Any) -> RequestView:
    """Show a sent ``requests`` request: line, headers and body.

    The Authorization header shows its scheme only, and tokens, secrets and
    codes in the body are shortened.
    """
    headers = {}
    for name, value in request.headers.items():
        if name.lower() not in SHOWN_HEADERS:
            continue  # User-Agent, Accept and the like say nothing about OAuth
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0]
            value = f"{scheme} … (hidden)"
        headers[name] = value
    body = request.body or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    pairs = parse_qsl(body, keep_blank_values=True)
    if pairs:
        body = "&".join(
            f"{key}={shorten(value) if key in SECRET_KEYS else value}"
            for key, value in pairs
        )
    return RequestView(request.method, request.url, headers, body)
