"""Random values for states, codes and tokens, repeatable for docs builds.

Normally every value comes from :mod:`secrets`. With the environment
variable ``SMARTCAR_TUTORIAL_DEMO_SEED`` set (docs builds set it), values
come from a seeded generator instead, so two runs of the same notebooks
produce the same states and codes, and pages built from them are
byte-identical. Never set it for a real app.

    >>> len(random_token(16)) >= 16
    True
"""

from __future__ import annotations

import base64
import os
import random
import secrets
import threading

SEED_VARIABLE = "SMARTCAR_TUTORIAL_DEMO_SEED"

_lock = threading.Lock()
_seeded: dict[tuple[str, str], random.Random] = {}


def _generator(purpose: str) -> random.Random | None:
    # One stream per purpose, so an extra request id, say, cannot shift
    # every code and token drawn after it.
    seed = os.environ.get(SEED_VARIABLE)
    if not seed:
        return None
    key = (seed, purpose)
    if key not in _seeded:
        _seeded[key] = random.Random(f"{seed}:{purpose}")
    return _seeded[key]


def random_bytes(nbytes: int, purpose: str = "") -> bytes:
    """Return ``nbytes`` random bytes: secret, or seeded in docs builds.

    Args:
        nbytes: How many bytes.
        purpose: Names the seeded stream to draw from, such as ``"code"``.
    """
    with _lock:
        generator = _generator(purpose)
        if generator is None:
            return secrets.token_bytes(nbytes)
        return generator.randbytes(nbytes)


def random_token(nbytes: int = 16, purpose: str = "") -> str:
    """Return a URL-safe text token made from ``nbytes`` random bytes."""
    raw = random_bytes(nbytes, purpose)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def random_uuid(purpose: str = "") -> str:
    """Return a random UUID-4 string, the shape Smartcar's codes have."""
    raw = bytearray(random_bytes(16, purpose))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    hexed = raw.hex()
    return "-".join((hexed[:8], hexed[8:12], hexed[12:16], hexed[16:20], hexed[20:]))
