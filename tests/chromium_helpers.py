"""Debian's Chromium for browser tests: where it is, how to start it, install.

Nothing here downloads a browser of its own (``playwright install`` cannot
work on a closed network). Where Chromium is missing, :func:`install_chromium`
installs Debian's package with ``apt-get`` when it can (as root); the
``chromium`` fixture in ``conftest.py`` skips, saying why, when it cannot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
# Headless comes from Playwright. Without the networking flags Chromium keeps
# calling Google's hosts, which a closed network refuses; tests run as root,
# where Chromium's own sandbox cannot start.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
APT_SECONDS = 600


def install_chromium() -> str | None:
    """Install Debian's chromium with apt-get; return why not, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "installing it needs root (apt-get install chromium)"
    if shutil.which("apt-get") is None:
        return "this system has no apt-get; install Chromium at /usr/bin/chromium"

    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=APT_SECONDS, env=env
            )
        except subprocess.TimeoutExpired:
            return f"`{' '.join(command)}` took more than {APT_SECONDS} s"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return f"`{' '.join(command)}` failed ({done.returncode}): {' '.join(tail)}"

    if not CHROMIUM.exists():
        return f"apt-get installed chromium, but {CHROMIUM} is still missing"
    return None


def close_notifications(page: Page) -> None:
    """Close JupyterLab's pop-ups (news, updates) that show.

    A toast still sliding in, or gone while being clicked, is left alone: it
    covers nothing the tests click.
    """
    for close in page.locator(".jp-Notification-Toast-Close").all():
        try:
            if close.is_visible():
                close.click(timeout=2_000)
        except PlaywrightError:
            pass
