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
_seeded: tuple[str, random.Random] | None = None


def _generator() -> random.Random | None:
    global _seeded
    seed = os.environ.get(SEED_VARIABLE)
    if not seed:
        return None
    if _seeded is None or _seeded[0] != seed:
        _seeded = (seed, random.Random(seed))
    return _seeded[1]


def random_bytes(nbytes: int) -> bytes:
    """Return ``nbytes`` random bytes: secret, or seeded in docs builds."""
    with _lock:
        generator = _generator()
        if generator is None:
            return secrets.token_bytes(nbytes)
        return generator.randbytes(nbytes)


def random_token(nbytes: int = 16) -> str:
    """Return a URL-safe text token made from ``nbytes`` random bytes."""
    return base64.urlsafe_b64encode(random_bytes(nbytes)).rstrip(b"=").decode()


def random_uuid() -> str:
    """Return a random UUID-4 string, the shape Smartcar's codes have."""
    raw = bytearray(random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    hexed = raw.hex()
    return "-".join((hexed[:8], hexed[8:12], hexed[12:16], hexed[16:20], hexed[20:]))
