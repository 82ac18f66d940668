"""Step 3 on a real JupyterHub: the flow works when the kernel is remote.

A JupyterHub from PyPI, with configurable-http-proxy from npm, a dummy
authenticator and the simple local-process spawner, runs on loopback.
Headless Chromium logs a learner in, opens Step 3, runs it, clicks the
widget's link, approves on the sandbox's consent page and sees the code in
the widget: the link and the redirect go through the learner's
``/user/<name>/proxy/<port>/``. Then several learners do it at once; their
kernels share one loopback, and none reaches another's servers.

Screenshots go to ``$SMARTCAR_TUTORIAL_ARTIFACTS/hub`` (``test-artifacts/hub``
by default), beside ``capacity-<n>.json``: memory and time per learner.

    python -m pytest tests/test_hub.py -q -rs
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

pytest.importorskip("jupyterhub", reason="the hub test needs jupyterhub (.[test])")
from chromium_helpers import CHROMIUM_FLAGS, close_notifications  # noqa: E402
from playwright.sync_api import (  # noqa: E402
    Browser,
    Page,
    expect,
    sync_playwright,
)

from smartcar_tutorial.steps import AUTOPILOT_VARIABLE  # noqa: E402

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.localserver]

ROOT = Path(__file__).parent.parent
STEP3 = "03-handle-the-response.ipynb"
CACHE = Path(
    os.environ.get("SMARTCAR_TUTORIAL_CACHE")
    or Path.home() / ".cache/smartcar-tutorial"
)
NPM_SECONDS = 300
HUB_START_SECONDS = 60
SPAWN_SECONDS = 120
DESKTOP = {"width": 1280, "height": 900}
FAILURES = Path(
    os.environ.get("SMARTCAR_TUTORIAL_ARTIFACTS") or ROOT / "test-artifacts"
)


# configurable-http-proxy from npm ----------------------------------------


def install_chp(folder: Path) -> Path | str:
    """Install configurable-http-proxy into ``folder``; return it, or why not."""
    command = folder / "node_modules" / ".bin" / "configurable-http-proxy"
    if command.exists():
        return command
    if shutil.which("npm") is None or shutil.which("node") is None:
        return "node and npm are not installed (apt-get install nodejs npm)"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "configurable-http-proxy@5"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=NPM_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return f"npm install took more than {NPM_SECONDS} s (no network?)"
    if done.returncode != 0 or not command.exists():
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        return f"npm install configurable-http-proxy failed: {tail}"
    return command


@pytest.fixture(scope="session")
def chp() -> Path:
    installed = install_chp(CACHE / "chp")
    if isinstance(installed, str):
        pytest.skip(f"No configurable-http-proxy for the hub: {installed}")
    return installed


# The hub -------------------------------------------------------------------

HUB_CONFIG = """\
import shutil
from pathlib import Path

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
# The hub's API defaults to 8081, the tutorial's sandbox port.
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {args!r}
c.Spawner.default_url = "/lab"
c.Spawner.env_keep = ["JUPYTERHUB_SINGLEUSER_APP"]
c.Spawner.environment = {{"PATH": {path!r}}}
c.Spawner.http_timeout = 90
c.Spawner.start_timeout = 120
c.JupyterHub.services = [{{"name": "hub-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{
        "name": "hub-test",
        "scopes": [
            "admin:users",
            "admin:servers",
            "admin:server_state",
            "access:servers",
        ],
        "services": ["hub-test"],
    }}
]


def copy_notebooks(spawner):
    home = Path(spawner.home_dir)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        {notebooks!r},
        home,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )


c.Spawner.pre_spawn_hook = copy_notebooks
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Hub:
    """A JupyterHub on loopback, and what the test learns about its users."""

    url: str
    token: str
    process: subprocess.Popen
    log: Path
    pids: set[int] = field(default_factory=set)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = requests.request(
            method,
            f"{self.url}/hub/api{path}",
            headers={"Authorization": f"token {self.token}"},
            timeout=10,
            **kwargs,
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def server_pid(self, user: str) -> int:
        server = self.api("GET", f"/users/{user}")["servers"][""]
        pid = int(server["state"]["pid"])
        self.pids.add(pid)
        return pid

    def wait_for_kernel(self, user: str, notebook: str, timeout: float = 60) -> None:
        """Wait until the notebook's kernel is idle and its page is connected.

        A click on Run All that beats the page's connection runs nothing.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sessions = requests.get(
                f"{self.url}/user/{user}/api/sessions",
                headers={"Authorization": f"token {self.token}"},
                timeout=10,
            ).json()
            for session in sessions:
                kernel = session.get("kernel") or {}
                if (
                    session.get("path") == notebook
                    and kernel.get("connections", 0) >= 1
                    and kernel.get("execution_state") == "idle"
                ):
                    return
            time.sleep(0.25)
        pytest.fail(f"{user}'s kernel for {notebook} was not ready in {timeout:g} s")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def hub_environment() -> dict[str, str]:
    """This environment without the autopilot, credentials or an outer hub's."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name != AUTOPILOT_VARIABLE
        and not name.startswith(("SMARTCAR_", "JUPYTERHUB_", "JPY_", "BINDER_"))
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def hub(chp: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("hub")
    env = hub_environment()
    port, token = free_port(), secrets.token_hex(16)
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    config = HUB_CONFIG.format(
        port=port,
        hub_port=free_port(),
        api_port=free_port(),
        chp=str(chp),
        homes=str(folder / "home"),
        singleuser=str(Path(sys.executable).parent / "jupyterhub-singleuser"),
        args=["--allow-root"] if as_root else [],
        path=env["PATH"],
        token=token,
        notebooks=str(ROOT / "notebooks"),
    )
    assert AUTOPILOT_VARIABLE not in config
    (folder / "jupyterhub_config.py").write_text(config)

    log = folder / "jupyterhub.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Hub(f"http://127.0.0.1:{port}", token, process, log)
    try:
        wait_for_hub(running)
        yield running
    finally:
        stop_hub(running)


def wait_for_hub(hub: Hub) -> None:
    deadline = time.monotonic() + HUB_START_SECONDS
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            pytest.fail(
                f"jupyterhub exited ({hub.process.returncode}):\n{hub.log_tail()}"
            )
        try:
            hub.api("GET", "/")
            return
        except requests.RequestException:
            time.sleep(0.25)
    pytest.fail(
        f"jupyterhub did not answer in {HUB_START_SECONDS} s:\n{hub.log_tail()}"
    )


def stop_hub(hub: Hub) -> None:
    """Stop the hub, which stops CHP and every user's server; then make sure."""
    hub.process.send_signal(signal.SIGTERM)
    try:
        hub.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        hub.process.kill()
        hub.process.wait(timeout=10)
    for pid in hub.pids:  # the user servers this test started, if still alive
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# Memory of a user's server and its kernels ----------------------------------


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def memory_mib(pids: list[int], source: str, field: str) -> float:
    """Add up one kB figure of /proc/<pid>/<source> over ``pids``.

    ``status``'s ``VmRSS`` counts shared pages in full for each process;
    ``smaps_rollup``'s ``Pss`` splits them among the processes sharing them.
    """
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/{source}").read_text()
        except OSError:
            continue
        match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total / 1024


def rss_mib(pids: list[int]) -> float:
    return memory_mib(pids, "status", "VmRSS")


def pss_mib(pids: list[int]) -> float:
    return memory_mib(pids, "smaps_rollup", "Pss")


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode(errors="replace") for key, value in pairs}


# Screenshots ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shots() -> Path:
    artifacts = Path(
        os.environ.get("SMARTCAR_TUTORIAL_ARTIFACTS") or ROOT / "test-artifacts"
    )
    folder = artifacts.resolve() / "hub"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


def save(page: Page, folder: Path, name: str, *, full_page: bool = False) -> None:
    close_notifications(page)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


# A learner in Chromium -------------------------------------------------------


#: A host name that is not loopback to the page, yet reaches this machine:
#: a learner's browser elsewhere, as far as JupyterLab's page can tell.
REMOTE_NAME = "workshop.test"


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    resolve = f"--host-resolver-rules=MAP {REMOTE_NAME} 127.0.0.1"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium),
            args=[*CHROMIUM_FLAGS, resolve],
            timeout=60_000,
        )
        yield launched
        launched.close()


@dataclass
class Learner:
    name: str
    page: Page
    started: float = 0.0
    spawn_seconds: float = 0.0  # log-in to JupyterLab
    open_seconds: float = 0.0  # log-in to Step 3 open, its kernel idle
    flow_seconds: float = 0.0  # click on the link to the code in the widget
    callback_url: str = ""
    code: str = ""

    @property
    def callback_port(self) -> int:
        return int(re.search(r"/proxy/(\d+)/callback", self.callback_url).group(1))


def log_in_and_open_step3(
    browser: Browser, hub: Hub, name: str, folder: Path
) -> Learner:
    """Log in at the hub, wait for the server, open Step 3 with its kernel idle."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.add_locator_handler(
        page.get_by_role("dialog").filter(has_text="Select Kernel"),
        lambda dialog: dialog.get_by_role("button", name="Select", exact=True).click(),
    )
    learner = Learner(name, page, started=time.monotonic())

    page.goto(f"{hub.url}/hub/login")
    page.locator("input[name=username]").fill(name)
    page.locator("input[name=password]").fill("any password")
    if name == "alice":
        save(page, folder, "hub-login")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(re.compile(rf"/user/{name}/lab"), timeout=SPAWN_SECONDS * 1000)
    learner.spawn_seconds = time.monotonic() - learner.started

    page.goto(f"{hub.url}/user/{name}/lab/tree/{STEP3}")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
    hub.wait_for_kernel(name, STEP3)
    expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=60_000
    )
    learner.open_seconds = time.monotonic() - learner.started
    return learner


def run_all_cells(page: Page) -> None:
    close_notifications(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def flow_widget(page: Page):
    widget = page.locator(".jp-OutputArea-output .widget-vbox").filter(
        has=page.get_by_role("link", name="Open Smartcar Connect")
    )
    try:
        expect(widget).to_be_visible(timeout=90_000)
    except AssertionError:
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        page.screenshot(path=str(FAILURES / "hub-no-widget.png"))
        raise AssertionError(f"no flow widget; the outputs say: {outputs}") from None
    expect(widget).to_contain_text("Waiting for the owner to approve")
    return widget


def approve_in_new_tab(learner: Learner, hub: Hub, folder: Path) -> None:
    """Click the widget's link, go through the consent pages, press Allow."""
    page, name = learner.page, learner.name
    widget = flow_widget(page)
    link = widget.get_by_role("link", name="Open Smartcar Connect")
    # The page's check makes the link absolute, for this learner's address bar.
    expect(link).to_have_attribute(
        "href",
        re.compile(rf"^{re.escape(hub.url)}/user/{name}/proxy/\d+/oauth/authorize\?"),
    )
    widget.scroll_into_view_if_needed()
    save(page, folder, f"hub-{name}-widget-waiting")

    clicked = time.monotonic()
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    heading = tab.get_by_role("heading", level=1)
    expect(heading).to_contain_text("wants to connect to your vehicle")
    assert f"/user/{name}/proxy/" in tab.url
    save(tab, folder, f"hub-{name}-consent-intro")
    tab.get_by_role("button", name="Continue", exact=True).click()
    expect(heading).to_have_text("Choose your car's brand")
    tab.get_by_role("button", name="Tesla", exact=True).click()
    tab.get_by_label("Email").fill(f"{name}@example.com")
    tab.get_by_label("Password").fill("any password will do")
    tab.get_by_role("button", name="Log in", exact=True).click()
    expect(heading).to_have_text(re.compile(r"^Allow .+ to:$"))
    save(tab, folder, f"hub-{name}-consent-permissions")
    tab.get_by_role("button", name="Allow", exact=True).click()

    tab.wait_for_url(re.compile(rf"/user/{name}/proxy/\d+/callback\?code="))
    expect(heading).to_have_text("Code received")
    learner.callback_url = tab.url
    save(tab, folder, f"hub-{name}-callback")
    shown = re.search(r"code \((\S+)…\)", tab.locator("body").inner_text())
    assert shown, "the page after the redirect shows no shortened code"

    page.bring_to_front()
    code = widget.locator(".widget-text").filter(has_text="Code").locator("input")
    expect(code).to_have_value(re.compile(r"\S"), timeout=20_000)
    learner.code = code.input_value()
    learner.flow_seconds = time.monotonic() - clicked
    assert learner.code.startswith(shown.group(1))
    expect(widget).to_contain_text("Code received.")
    widget.scroll_into_view_if_needed()
    save(page, folder, f"hub-{name}-widget-code")
    expect(page.locator(".jp-InputPrompt", has_text="[*]")).to_have_count(
        0, timeout=30_000
    )


def record_capacity(hub: Hub, learners: list[Learner], folder: Path) -> None:
    """Write memory and time per learner, for README's capacity figures."""
    figures = []
    for learner in learners:
        pid = hub.server_pid(learner.name)
        env = environment_of(pid)
        assert AUTOPILOT_VARIABLE not in env, "the autopilot leaked to the hub"
        assert env.get("JUPYTERHUB_SERVICE_PREFIX") == f"/user/{learner.name}/"
        processes = descendants(pid)
        figures.append(
            {
                "user": learner.name,
                "processes": len(processes),
                "rss_mib": round(rss_mib(processes), 1),
                "pss_mib": round(pss_mib(processes), 1),
                "cpu_seconds": round(cpu_seconds(processes), 1),
                "spawn_seconds": round(learner.spawn_seconds, 1),
                "open_step3_seconds": round(learner.open_seconds, 1),
                "click_to_code_seconds": round(learner.flow_seconds, 1),
                "callback_port": learner.callback_port,
            }
        )
    hub_processes = descendants(hub.process.pid)
    users = {p for server in hub.pids for p in descendants(server)}
    report = {
        "learners_at_once": len(learners),
        "per_learner": figures,
        "hub_and_proxy_rss_mib": round(
            rss_mib([p for p in hub_processes if p not in users]), 1
        ),
        "memory_total_mib": round(
            int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
            / 1024
        ),
        "cpus": os.cpu_count(),
    }
    (folder / f"capacity-{len(learners)}.json").write_text(json.dumps(report, indent=2))


# The tests -------------------------------------------------------------------


def test_step3_on_jupyterhub_shows_the_code_after_allow(
    browser: Browser, hub: Hub, shots: Path
) -> None:
    learner = log_in_and_open_step3(browser, hub, "alice", shots)
    run_all_cells(learner.page)
    approve_in_new_tab(learner, hub, shots)

    assert learner.callback_url.startswith(f"{hub.url}/user/alice/proxy/")
    record_capacity(hub, [learner], shots)
    learner.page.context.close()


def test_step3_on_jupyterhub_for_several_learners_at_once(
    browser: Browser, hub: Hub, shots: Path
) -> None:
    names = ["bob", "carol", "dave", "erin"]
    learners = [log_in_and_open_step3(browser, hub, name, shots) for name in names]
    for learner in learners:  # every kernel waits for its answer at once
        run_all_cells(learner.page)
    for learner in learners:
        approve_in_new_tab(learner, hub, shots)

    ports = [learner.callback_port for learner in learners]
    assert len(set(ports)) == len(ports), f"learners share a callback port: {ports}"
    codes = [learner.code for learner in learners]
    assert len(set(codes)) == len(codes)
    for learner in learners:
        assert learner.callback_url.startswith(f"{hub.url}/user/{learner.name}/")
    record_capacity(hub, learners, shots)

    # Bob's proxy reaches Carol's port on the shared loopback; her server
    # answers that it is not his.
    bob, carol = learners[0], learners[1]
    tab = bob.page.context.new_page()
    answer = tab.goto(
        f"{hub.url}/user/bob/proxy/{carol.callback_port}/callback?code=x&state=y"
    )
    assert answer is not None and answer.status == 403
    expect(tab.get_by_role("heading", level=1)).to_contain_text("another user")
    save(tab, shots, "hub-bob-refused-at-carols-port")
    for learner in learners:
        learner.page.context.close()


def start_server(hub: Hub, user: str) -> str:
    """Create ``user`` and start their server unless it runs; return its URL."""
    try:
        hub.api("POST", f"/users/{user}")
    except requests.HTTPError as exc:
        if exc.response.status_code != 409:  # 409: the user exists already
            raise
    if not hub.api("GET", f"/users/{user}")["servers"]:
        hub.api("POST", f"/users/{user}/server")
    deadline = time.monotonic() + SPAWN_SECONDS
    while not hub.api("GET", f"/users/{user}")["servers"].get("", {}).get("ready"):
        if time.monotonic() > deadline:
            pytest.fail(f"{user}'s server was not ready:\n{hub.log_tail()}")
        time.sleep(0.5)
    hub.server_pid(user)  # stopped with the hub
    return f"{hub.url}/user/{user}/"


def test_doctor_passes_in_a_learners_terminal_on_the_hub(hub: Hub) -> None:
    server = start_server(hub, "frank")
    # What a terminal of Frank's server has: the hub's variables for him.
    env = hub_environment()
    env.update(
        JUPYTERHUB_USER="frank",
        JUPYTERHUB_SERVICE_PREFIX="/user/frank/",
        JUPYTERHUB_BASE_URL="/",
        JUPYTERHUB_API_URL=f"{hub.url}/hub/api",
    )
    command = [sys.executable, "-m", "smartcar_tutorial", "doctor", "--quick"]
    command += ["--server-url", server, "--token", hub.token]

    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for check in ("jupyter-server-proxy", "ports", "sandbox through proxy"):
        assert any(line.startswith(f"PASS  {check}") for line in lines), lines
    assert lines[-1] == "All checks passed"


# A remote jupyter lab that sets no hub variables: the page's check -----------


@dataclass
class RemoteLab:
    url: str  # as the learner's browser sees it
    token: str
    process: subprocess.Popen
    log: Path


@pytest.fixture(scope="module")
def remote_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteLab]:
    """``jupyter lab`` with a hub's kind of base URL, reached as workshop.test.

    Its kernels see no JupyterHub variable, so they think they run on the
    learner's laptop; only the page knows better.
    """
    folder = tmp_path_factory.mktemp("remote-lab")
    shutil.copytree(
        ROOT / "notebooks",
        folder / "notebooks",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )
    env = hub_environment()
    env.update(
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(folder / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(folder / "workspaces"),
        # A port of its own, which no other test run's kernel takes over.
        SMARTCAR_REDIRECT_URI=f"http://localhost:{free_port()}/callback",
    )
    port, token = free_port(), secrets.token_urlsafe(24)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    command += [
        "--ServerApp.base_url=/user/learner/",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_remote_access=True",
        f"--IdentityProvider.token={token}",
    ]
    log = folder / "jupyterlab.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=folder / "notebooks",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    lab = RemoteLab(f"http://{REMOTE_NAME}:{port}/user/learner", token, process, log)
    try:
        api = f"http://127.0.0.1:{port}/user/learner/api/status"
        deadline = time.monotonic() + HUB_START_SECONDS
        while True:
            try:
                requests.get(api, params={"token": token}, timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(
                        f"jupyter lab did not start:\n{log.read_text()[-2000:]}"
                    )
                time.sleep(0.25)
        yield lab
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_the_page_routes_a_browser_elsewhere_through_the_proxy(
    browser: Browser, remote_lab: RemoteLab, shots: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.add_locator_handler(
        page.get_by_role("dialog").filter(has_text="Select Kernel"),
        lambda dialog: dialog.get_by_role("button", name="Select", exact=True).click(),
    )
    page.goto(f"{remote_lab.url}/lab/tree/{STEP3}?token={remote_lab.token}")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
    expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=60_000
    )
    page.wait_for_timeout(2_000)  # the page's kernel connection settles
    run_all_cells(page)

    widget = flow_widget(page)
    link = widget.get_by_role("link", name="Open Smartcar Connect")
    pattern = rf"^{re.escape(remote_lab.url)}/proxy/\d+/oauth/authorize\?"
    expect(link).to_have_attribute("href", re.compile(pattern))
    save(page, shots, "remote-lab-widget-waiting")

    with context.expect_page() as opened:
        link.click()
    tab = opened.value
    heading = tab.get_by_role("heading", level=1)
    expect(heading).to_contain_text("wants to connect to your vehicle")
    tab.get_by_role("button", name="Continue", exact=True).click()
    tab.get_by_role("button", name="Tesla", exact=True).click()
    tab.get_by_label("Email").fill("learner@example.com")
    tab.get_by_label("Password").fill("any password will do")
    tab.get_by_role("button", name="Log in", exact=True).click()
    tab.get_by_role("button", name="Allow", exact=True).click()
    tab.wait_for_url(re.compile(rf"^{re.escape(remote_lab.url)}/proxy/\d+/callback\?"))
    expect(heading).to_have_text("Code received")
    save(tab, shots, "remote-lab-callback")

    page.bring_to_front()
    code = widget.locator(".widget-text").filter(has_text="Code").locator("input")
    expect(code).to_have_value(re.compile(r"\S"), timeout=20_000)
    save(page, shots, "remote-lab-widget-code")
    context.close()
