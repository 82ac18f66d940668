"""What learners see, in a real browser: the consent pages and the Step 3 widget.

Playwright drives Debian's Chromium at ``/usr/bin/chromium``; nothing here
downloads a browser of its own. Where Chromium is missing, the run installs
it with ``apt-get`` when it can (as root), and skips these tests, saying
why, only when it cannot.

Each moment a learner sees is saved as a screenshot for people to look at,
in ``$SMARTCAR_TUTORIAL_ARTIFACTS/screenshots`` (``test-artifacts/screenshots``
by default); the end of the run names the folder:

    python -m pytest tests/test_browser.py -q -rs
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chromium_helpers import CHROMIUM_FLAGS, close_notifications
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
    sync_playwright,
)

from smartcar_tutorial import AuthClient, new_state, shorten
from smartcar_tutorial.callback_server import CallbackServer
from smartcar_tutorial.flow import PendingFlow
from smartcar_tutorial.sandbox import DEMO_REDIRECT_URI, Sandbox
from smartcar_tutorial.steps import AUTOPILOT_VARIABLE

pytestmark = [pytest.mark.browser, pytest.mark.localserver]

ROOT = Path(__file__).parent.parent

ARTIFACTS_VARIABLE = "SMARTCAR_TUTORIAL_ARTIFACTS"
MOMENTS = ("consent-*.png", "callback-*.png", "lab-*.png", "phone-*.png")

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 667}
OVERFLOW_TOLERANCE = 2  # pixels: sub-pixel rounding, not a scroll bar

SCOPE = ["read_vehicle_info", "read_odometer"]
STEP3 = "03-handle-the-response.ipynb"
LAB_START_SECONDS = 60


# Chromium and Playwright -------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    """Headless Chromium, driven by Playwright's sync API.

    Module scope, not session: while the sync API is active it leaves an
    asyncio loop marked as running, which breaks later tests that call
    asyncio.run() (https://github.com/microsoft/playwright-pytest/issues/167).
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_FLAGS, timeout=60_000
        )
        yield browser
        browser.close()


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """Open pages, each in a new browser context closed after the test.

    Keyword arguments go to ``Browser.new_context``; the window is
    desktop-sized unless they give a ``viewport``.
    """
    contexts: list[BrowserContext] = []

    def open_page(**options: Any) -> Page:
        context = browser.new_context(**{"viewport": DESKTOP, **options})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


# Screenshots -------------------------------------------------------------


class Screenshots:
    """Saves each moment as ``<name>.png`` and names the folder at the end.

    An instance is registered as a pytest plugin, so its terminal summary
    shows whatever ``-s`` or ``-q`` say.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.saved: list[Path] = []

    def save(self, page: Page, name: str, *, full_page: bool = True) -> Path:
        close_notifications(page)
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if path not in self.saved:
            self.saved.append(path)
        return path

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(self.saved)} saved in {self.folder}")
        for path in sorted(self.saved):
            terminalreporter.write_line(f"  {path.name}")


@pytest.fixture(scope="session")
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    """The run's screenshot folder, emptied of an earlier run's moments."""
    artifacts = Path(os.environ.get(ARTIFACTS_VARIABLE) or ROOT / "test-artifacts")
    folder = artifacts.resolve() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in MOMENTS:
        for old in folder.glob(pattern):
            old.unlink()

    shots = Screenshots(folder)
    request.config.pluginmanager.register(shots, "smartcar-tutorial-screenshots")
    return shots


# The consent pages ---------------------------------------------------------


@dataclass
class Connect:
    """A sandbox and a callback server in this process, and a client of both."""

    sandbox: Sandbox
    server: CallbackServer
    client: AuthClient

    def start_flow(self) -> PendingFlow:
        state = new_state()
        auth_url = self.client.get_auth_url(SCOPE, {"state": state})
        return self.server.expect(state, auth_url)


@pytest.fixture
def connect() -> Iterator[Connect]:
    with Sandbox(port=0) as sandbox:
        with CallbackServer("http://localhost:0/callback") as server:
            sandbox.register_redirect_uri(server.redirect_uri)
            client = AuthClient(
                sandbox.client_id,
                sandbox.client_secret,
                redirect_uri=server.redirect_uri,
                mode="test",
                connect_origin=sandbox.origin,
            )
            yield Connect(sandbox, server, client)


PageCheck = Callable[[Page, str], None]

# What the callback server's page says after each decision.
CALLBACK_PAGES = {
    "Allow": ("callback-success", "Code received", "the notebook has it"),
    "Deny": ("callback-error", "Connect sent an error", "pressed Deny"),
}


def walk_consent(page: Page, decision: str, check: PageCheck | None = None) -> None:
    """Click through Connect as an owner would, then press Allow or Deny.

    ``check(page, name)`` runs on each page once its heading shows: intro,
    brand, login and permissions.
    """
    check = check or (lambda page, name: None)
    heading = page.get_by_role("heading", level=1)

    expect(heading).to_contain_text("wants to connect to your vehicle")
    check(page, "intro")
    page.get_by_role("button", name="Continue", exact=True).click()

    expect(heading).to_have_text("Choose your car's brand")
    check(page, "brand")
    page.get_by_role("button", name="Tesla", exact=True).click()

    expect(heading).to_have_text("Log in to your Tesla account")
    check(page, "login")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill("any password will do")
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(heading).to_have_text(re.compile(r"^Allow .+ to:$"))
    check(page, "permissions")
    page.get_by_role("button", name=decision, exact=True).click()


def expect_callback_page(page: Page, redirect_uri: str, decision: str) -> str:
    """Wait for the redirect to land and check its page; return its name."""
    name, title, words = CALLBACK_PAGES[decision]
    page.wait_for_url(lambda url: url.startswith(redirect_uri + "?"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("body")).to_contain_text(words)
    return name


def expect_answer(page: Page, flow: PendingFlow, decision: str) -> None:
    """Check the flow got the answer the page reports, and its state."""
    assert flow.done, "the callback server received nothing"
    assert flow.result.state == flow.state
    if decision == "Allow":
        assert flow.result.code
        expect(page.locator("body")).to_contain_text(f"({shorten(flow.result.code)})")
    else:
        assert flow.result.error == "access_denied"


@pytest.mark.parametrize("decision", ["Allow", "Deny"])
def test_consent_pages_lead_to_the_callback_page(
    open_page: OpenPage, connect: Connect, screenshots: Screenshots, decision: str
) -> None:
    flow = connect.start_flow()
    page = open_page()

    def save(page: Page, name: str) -> None:
        if decision == "Allow":  # the same four pages either way
            screenshots.save(page, f"consent-{name}")

    page.goto(flow.auth_url)
    walk_consent(page, decision, save)
    name = expect_callback_page(page, connect.server.redirect_uri, decision)
    screenshots.save(page, name)

    expect_answer(page, flow, decision)


@pytest.mark.parametrize("decision", ["Allow", "Deny"])
def test_consent_pages_work_without_javascript(
    open_page: OpenPage, connect: Connect, decision: str
) -> None:
    flow = connect.start_flow()
    page = open_page(java_script_enabled=False)

    page.goto(flow.auth_url)
    walk_consent(page, decision)
    expect_callback_page(page, connect.server.redirect_uri, decision)

    expect_answer(page, flow, decision)


# Elements wider than the window, for a failure message that says which.
_OVERFLOWING = """(limit) => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > limit)
  .slice(0, 5)
  .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
    + " " + JSON.stringify((el.textContent || "").trim().slice(0, 40)))"""


def expect_fits_phone(page: Page, name: str) -> None:
    """Check nothing scrolls sideways and every button is on screen.

    Folded sections (``<details>``) are opened first: what they hold must
    fit too.
    """
    for summary in page.locator("details:not([open]) > summary").all():
        summary.click()

    limit = PHONE["width"] + OVERFLOW_TOLERANCE
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= limit, (
        f"the {name} page is {width}px wide in a {PHONE['width']}px window; "
        f"too wide: {page.evaluate(_OVERFLOWING, limit)}"
    )

    for button in page.locator("button").all():
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= limit, (
            f"on the {name} page the button {button.inner_text()!r} sticks out "
            f"of the window: {box}"
        )


@pytest.mark.parametrize("decision", ["Allow", "Deny"])
def test_consent_pages_fit_a_phone(
    open_page: OpenPage, connect: Connect, screenshots: Screenshots, decision: str
) -> None:
    flow = connect.start_flow()
    page = open_page(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )

    def check(page: Page, name: str) -> None:
        if decision == "Allow":
            screenshots.save(page, f"phone-{name}")
        expect_fits_phone(page, name)

    page.goto(flow.auth_url)
    walk_consent(page, decision, check)
    name = expect_callback_page(page, connect.server.redirect_uri, decision)
    screenshots.save(page, f"phone-{name}")
    expect_fits_phone(page, name)

    expect_answer(page, flow, decision)


# JupyterLab ---------------------------------------------------------------


@dataclass
class Lab:
    """A JupyterLab server started as README says, on a copy of notebooks/."""

    url: str
    token: str
    notebooks: Path
    process: subprocess.Popen
    log: Path

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """Shut every notebook's kernel down, and with it its servers."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def wait_for_kernel(self, notebook: str, timeout: float = 60) -> None:
        """Wait until the notebook's kernel is idle and the page is connected."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.api("GET", "/api/sessions"):
                kernel = session["kernel"] or {}
                connected = kernel.get("connections", 0) >= 1
                if session["path"] == notebook and connected:
                    if kernel.get("execution_state") == "idle":
                        return
            time.sleep(0.25)
        pytest.fail(f"{notebook}'s kernel was not ready within {timeout:g} s")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(lab: Lab) -> None:
    deadline = time.monotonic() + LAB_START_SECONDS
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            pytest.fail(
                f"jupyter lab exited ({lab.process.returncode}):\n{lab.log_tail()}"
            )
        try:
            lab.api("GET", "/api/status")
            return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"jupyter lab did not answer within {LAB_START_SECONDS} s")


def stop_lab(lab: Lab) -> None:
    try:
        lab.shut_down_kernels()
        lab.api("POST", "/api/shutdown")
    except OSError:
        pass
    try:
        lab.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        lab.process.terminate()
        try:
            lab.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            lab.process.kill()
            lab.process.wait(timeout=10)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """``jupyter lab notebooks/`` on a free loopback port, with a token.

    It runs on a copy of notebooks/ so the repository stays clean, with
    its own settings and workspace folders so a developer's open tabs and
    choices stay out of it, and without the autopilot: here a person clicks.
    """
    root = tmp_path_factory.mktemp("jupyterlab")
    shutil.copytree(
        ROOT / "notebooks",
        root / "notebooks",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )
    # A learner's machine has neither the autopilot (conftest.py sets it for
    # nbval) nor a developer's Smartcar credentials.
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SMARTCAR_")
    }
    assert AUTOPILOT_VARIABLE not in env
    env.update(
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"),
    )

    port, token = free_port(), secrets.token_urlsafe(24)
    command = [sys.executable, "-m", "jupyter", "lab", "notebooks", "--no-browser"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    command += [
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
    ]
    log = root / "jupyterlab.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, root / "notebooks", process, log)
    try:
        wait_until_serving(lab)
        yield lab
    finally:
        stop_lab(lab)


@pytest.fixture
def step3(open_page: OpenPage, jupyterlab: Lab) -> Iterator[Page]:
    """The Step 3 notebook, fresh from the repository, open in JupyterLab.

    Each test gets a new kernel; its sandbox and callback server listen on
    ports 8081 and 8080 as on a learner's machine.
    """
    shutil.copy(ROOT / "notebooks" / STEP3, jupyterlab.notebooks / STEP3)
    page = open_page()
    page.context.set_default_timeout(30_000)
    # Asked for a kernel (a click that beat the kernel's start), a person
    # takes the one offered: the notebook's own, Python 3.
    page.add_locator_handler(
        page.get_by_role("dialog").filter(has_text="Select Kernel"),
        lambda dialog: dialog.get_by_role("button", name="Select", exact=True).click(),
    )

    page.goto(f"{jupyterlab.url}/lab/tree/{STEP3}?token={jupyterlab.token}")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
    jupyterlab.wait_for_kernel(STEP3)
    expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle"
    )
    yield page
    jupyterlab.shut_down_kernels()


def run_all_cells(page: Page) -> None:
    close_notifications(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def code_box(widget: Locator) -> Locator:
    """The widget's read-only box where the code appears."""
    return widget.locator(".widget-text").filter(has_text="Code").locator("input")


def expect_flow_widget(page: Page) -> Locator:
    """Wait for the flow widget to render as a widget and return it."""
    widget = page.locator(".jp-OutputArea-output .widget-vbox").filter(
        has=page.get_by_role("link", name="Open Smartcar Connect")
    )
    try:
        expect(widget).to_be_visible(timeout=60_000)
    except AssertionError:
        errors = page.locator(".jp-OutputArea-output").all_inner_texts()
        raise AssertionError(f"no flow widget; the outputs say: {errors}") from None
    expect(code_box(widget)).to_have_value("")
    assert "took port" not in widget.inner_text(), (
        "another kernel (another test run?) took port 8080 or 8081 from this "
        f"notebook; run these tests again once it is done: {widget.inner_text()}"
    )
    return widget


def expect_every_widget_rendered(page: Page) -> None:
    """Every widget output is a live widget: none failed or fell back to text.

    A widget the page cannot draw shows "Error displaying widget", stays
    at "Loading widget...", or shows its text form, such as ``VBox(...)``.
    """
    outputs = page.locator(".jp-OutputArea-output")
    broken = outputs.filter(
        has_text=re.compile(
            r"Error displaying widget|Loading widget|FlowWidget\(|VBox\("
        )
    )
    expect(broken).to_have_count(0)
    views = page.locator(".jp-OutputArea-output:has(> .jupyter-widgets)")
    expect(views).not_to_have_count(0)


def show_widget(page: Page, widget: Locator) -> None:
    """Scroll so the widget's cell sits in the middle of the window."""
    cell = page.locator(".jp-CodeCell").filter(has=widget)
    cell.evaluate("cell => cell.scrollIntoView({block: 'center'})")


def open_link(page: Page, widget: Locator) -> Page:
    """Click the widget's link; Connect opens in a new tab."""
    with page.context.expect_page() as opened:
        widget.get_by_role("link", name="Open Smartcar Connect").click()
    tab = opened.value
    tab.wait_for_load_state()
    return tab


def test_step3_widget_shows_the_code_after_allow(
    step3: Page, screenshots: Screenshots
) -> None:
    page = step3
    run_all_cells(page)
    widget = expect_flow_widget(page)
    expect_every_widget_rendered(page)
    show_widget(page, widget)
    screenshots.save(page, "lab-widget-waiting", full_page=False)

    tab = open_link(page, widget)
    screenshots.save(tab, "lab-connect-intro")
    walk_consent(tab, "Allow")
    expect_callback_page(tab, DEMO_REDIRECT_URI, "Allow")
    screenshots.save(tab, "lab-callback-success")
    shown = re.search(r"code \((\S+)…\)", tab.locator("body").inner_text())
    assert shown, "the page after the redirect shows no shortened code"

    page.bring_to_front()
    code = code_box(widget)
    expect(code).to_have_value(re.compile(r"\S"), timeout=20_000)
    assert code.input_value().startswith(shown.group(1))
    expect(widget).to_contain_text("Code received.")
    show_widget(page, widget)
    screenshots.save(page, "lab-widget-code", full_page=False)

    # With the code in, the cells after the widget run to the end.
    running = page.locator(".jp-InputPrompt", has_text="[*]")
    expect(running).to_have_count(0, timeout=30_000)
    expect_every_widget_rendered(page)
    errors = page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    )
    assert errors.count() == 0, errors.all_inner_texts()


def test_step3_widget_explains_a_deny(step3: Page, screenshots: Screenshots) -> None:
    page = step3
    run_all_cells(page)
    widget = expect_flow_widget(page)

    tab = open_link(page, widget)
    walk_consent(tab, "Deny")
    expect_callback_page(tab, DEMO_REDIRECT_URI, "Deny")
    screenshots.save(tab, "lab-callback-error")

    page.bring_to_front()
    expect(widget).to_contain_text("pressed Deny", timeout=20_000)
    expect(widget).to_contain_text("Open the link again and press Allow")
    expect(code_box(widget)).to_have_value("")
    expect_every_widget_rendered(page)
    show_widget(page, widget)
    screenshots.save(page, "lab-widget-denied", full_page=False)
