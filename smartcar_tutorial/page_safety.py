"""What must never reach a published page: secrets, tokens, machine paths.

Docs builds run the notebooks against the sandbox with no credentials in
the kernels' environment, so nothing secret should come out of them. These
checks make sure of it after conversion, and take out what differs from one
machine or run to the next:

    secrets = configured_secrets(os.environ)     # read before the build
    tokens = find_token_values(output_text)      # harvested from outputs
    page = redact(page, tokens)
    leaked = [name for name, value in secrets.items() if value in page]
"""

from __future__ import annotations

import base64
import html
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from .sandbox import DEMO_CLIENT_SECRET

REDACTED = "[redacted]"
# Shorter values would match ordinary words; no real secret is this short.
MIN_SECRET_LENGTH = 6

_SECRET_NAME = re.compile(r"SMARTCAR_\w*(SECRET|TOKEN)\Z")
_TOKEN_CHARS = r"[A-Za-z0-9._~+/-]{8,}=*"
_TOKEN_VALUE = re.compile(
    rf"""(?:access_token|refresh_token)['"]?\s*[:=]\s*['"]?({_TOKEN_CHARS})"""
    rf"""|\bBearer\s+({_TOKEN_CHARS})""",
    re.IGNORECASE,
)
# Each path starts where a word starts: the look-behind keeps the search
# linear on long unbroken runs of text, such as an HTML page's styles.
_PATH_START = r"(?<![^\s'\"<>(=])[^\s'\"<>(=]*?"
_KERNEL_CELL_FILE = re.compile(_PATH_START + r"ipykernel_\d+[/\\]\d+\.py")
_KERNEL_FILE = re.compile(_PATH_START + r"kernel-[0-9a-f-]{36}\.json")
_LOOPBACK_PORT = re.compile(r"(?:localhost|127\.0\.0\.1|\[::1\]):(\d{1,5})\b")
_TIMESTAMP = re.compile(
    r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?\b"
)
TIMESTAMP_PLACEHOLDER = "YYYY-MM-DD hh:mm"
_TAKEOVER = re.compile(r"took (?:the )?port (?:\d+ )?over|\(process \d+\)")


def configured_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the secret values configured in ``environ``, by what they are.

    Every ``SMARTCAR_*SECRET`` and ``SMARTCAR_*TOKEN`` variable counts, and
    the client secret also as HTTP Basic credentials (RFC 6749 §2.3.1). The
    sandbox's demo secret is public demo data and does not.
    """
    secrets = {
        name: value
        for name, value in sorted(environ.items())
        if _SECRET_NAME.match(name)
        and len(value) >= MIN_SECRET_LENGTH
        and value != DEMO_CLIENT_SECRET
    }
    client_id = environ.get("SMARTCAR_CLIENT_ID")
    if client_id and "SMARTCAR_CLIENT_SECRET" in secrets:
        pair = f"{client_id}:{secrets['SMARTCAR_CLIENT_SECRET']}".encode()
        basic = base64.b64encode(pair).decode()
        secrets["SMARTCAR_CLIENT_SECRET (in a Basic header)"] = basic
    return secrets


def find_token_values(text: str) -> set[str]:
    """Return the access and refresh tokens that ``text`` shows.

    A token is a value labelled ``access_token`` or ``refresh_token`` (as a
    JSON key, a ``repr`` field or a form field), or sent as ``Bearer``.

    >>> sorted(find_token_values('{"access_token": "a1b2c3d4e5", "x": 1}'))
    ['a1b2c3d4e5']
    """
    text = html.unescape(text)
    return {
        value
        for match in _TOKEN_VALUE.finditer(text)
        for value in match.groups()
        if value
    }


def redact(text: str, values: Iterable[str]) -> str:
    """Replace every occurrence of each value with ``[redacted]``."""
    for value in sorted(set(values), key=len, reverse=True):
        text = text.replace(value, REDACTED)
        text = text.replace(html.escape(value), REDACTED)
    return text


def leaked_secrets(content: bytes, secrets: Mapping[str, str]) -> list[str]:
    """Return the names of the secrets whose value ``content`` holds."""
    found = []
    for name, value in secrets.items():
        forms = {value, html.escape(value)}
        if any(form.encode() in content for form in forms):
            found.append(name)
    return found


def scrub_machine_paths(text: str, paths: Mapping[Path, str]) -> str:
    """Replace machine-specific paths with stable placeholders.

    Args:
        text: A page.
        paths: Folders of this build (its temporary folder, the notebooks'
            folder) and what to write instead of each.

    Returns:
        The page with those folders, the home folder, the Python
        installation, the temporary folder and kernel file names replaced.
    """
    text = _KERNEL_CELL_FILE.sub("<cell>", text)
    text = _KERNEL_FILE.sub("<kernel>", text)
    known = {
        **{str(path): placeholder for path, placeholder in paths.items()},
        sys.prefix: "<python>",
        str(Path.home()): "~",
        tempfile.gettempdir(): "<tmp>",
    }
    for path in sorted(known, key=len, reverse=True):
        if len(path) > 1:
            pattern = re.escape(path) + r"(?=[/\\'\"\s<>)]|\Z)"
            text = re.sub(pattern, lambda _m, p=path: known[p], text)
    return text


def unexpected_ports(text: str, expected: Iterable[int]) -> list[int]:
    """Return the loopback ports in ``text`` that are not ``expected``."""
    allowed = set(expected)
    found = {int(port) for port in _LOOPBACK_PORT.findall(text)}
    return sorted(found - allowed)


def shows_port_takeover(text: str) -> bool:
    """Return True if ``text`` says a server's port changed hands.

    The callback server's ``repr`` names the process it took its port from,
    and a server that lost its port says so on stderr.
    """
    return _TAKEOVER.search(text) is not None


def scrub_timestamps(text: str) -> tuple[str, int]:
    """Replace date-times (a run's clock) with a placeholder; count them.

    >>> scrub_timestamps("expiration=2026-12-03 21:33 UTC")
    ('expiration=YYYY-MM-DD hh:mm UTC', 1)
    """
    return _TIMESTAMP.subn(TIMESTAMP_PLACEHOLDER, text)
