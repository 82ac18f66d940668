"""Check the environment a workshop will run in, one line per check.

``python -m smartcar_tutorial doctor`` is for facilitators: run it in the
environment that runs the Jupyter server (a Binder image, a hub's image,
a laptop) before learners arrive. Each check prints PASS or FAIL, what it
saw, and for a failure the fix; the exit status is 1 when any check fails.

    $ python -m smartcar_tutorial doctor --quick
    PASS  ports                    8080 is free; 8081 is free
    FAIL  jupyter-server-proxy     not installed (it cannot be imported). Fix: …
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import scratch_server
from .ports import describe_port_holder, is_free
from .where import Where

PROXY_MINIMUM = (4, 2)
PORTS = (8080, 8081)
COMMAND_SECONDS = 120
CELL_SECONDS = 120
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was seen and, on failure, the fix."""

    name: str
    ok: bool
    seen: str
    fix: str = ""

    def line(self) -> str:
        """Return the check as one line of the report."""
        text = f"{'PASS' if self.ok else 'FAIL'}  {self.name:<24} {self.seen}"
        return text if self.ok or not self.fix else f"{text}. Fix: {self.fix}"


def _jupyter(*args: str) -> str:
    """Run ``jupyter <args>`` with this Python; return its output, uncoloured."""
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return _ANSI.sub("", done.stdout + done.stderr)


def check_widget_front_end() -> Check:
    """The widgets' JupyterLab extensions are installed where the server runs."""
    listing = _jupyter("labextension", "list")
    wanted = {
        "@jupyter-widgets/jupyterlab-manager": "jupyterlab_widgets",
        "anywidget": "anywidget",
    }
    found, missing = [], []
    for extension, package in wanted.items():
        line = re.search(
            rf"^\s*{re.escape(extension)} (v\S+) enabled\s+OK", listing, re.MULTILINE
        )
        (found if line else missing).append(
            f"{extension} {line.group(1)}" if line else package
        )
    if missing:
        return Check(
            "widget front end",
            False,
            "JupyterLab lacks the front end of " + ", ".join(missing),
            f"pip install {' '.join(missing)} in the environment that runs the "
            "Jupyter server, restart the server and reload the page",
        )
    return Check("widget front end", True, ", ".join(found))


def check_server_proxy() -> Check:
    """jupyter-server-proxy (4.2 or later) is importable and enabled."""
    name = "jupyter-server-proxy"
    fix = (
        "pip install 'jupyter-server-proxy>=4.2' in the environment that runs "
        "the Jupyter server, then restart it"
    )
    try:
        found = importlib.util.find_spec("jupyter_server_proxy") is not None
    except ImportError:
        found = False
    if not found:
        return Check(name, False, "not installed (it cannot be imported)", fix)

    version = importlib.metadata.version("jupyter-server-proxy")
    if tuple(int(part) for part in re.findall(r"\d+", version)[:2]) < PROXY_MINIMUM:
        return Check(name, False, f"version {version} has published flaws", fix)

    listing = _jupyter("server", "extension", "list")
    if not re.search(r"^\s*jupyter_server_proxy enabled", listing, re.MULTILINE):
        return Check(
            name,
            False,
            f"{version} is installed but not enabled",
            "jupyter server extension enable --sys-prefix jupyter_server_proxy",
        )
    if not re.search(r"^\s*jupyter_server_proxy \S+ OK", listing, re.MULTILINE):
        return Check(name, False, f"{version} is enabled but fails to load", fix)
    return Check(name, True, f"{version}, enabled")


def check_ports(ports: tuple[int, ...] = PORTS) -> Check:
    """The tutorial's ports are free, or held by the tutorial's own servers."""
    busy, seen = [], []
    for port in ports:
        holder = None if is_free(port) else describe_port_holder(port)
        if holder:
            seen.append(f"{port} is {holder}, which hands it over")
        elif not is_free(port):
            busy.append(port)
        else:
            seen.append(f"{port} is free")
    if busy:
        listed = ", ".join(str(port) for port in busy)
        return Check(
            "ports",
            False,
            f"port {listed} is held by another program",
            f"stop it (lsof -i :{busy[0]} names it); on a JupyterHub node, whose "
            "hub API listens on 8081 unless told otherwise, set "
            "c.JupyterHub.hub_port to another port",
        )
    return Check("ports", True, "; ".join(seen))


def check_kernel() -> Check:
    """A ``python3`` kernel exists and can import this package."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    fix = (
        "python -m ipykernel install --sys-prefix --name python3 in the "
        "environment that has smartcar-tutorial"
    )
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return Check("python3 kernel", False, "no kernel named python3", fix)

    python = spec.argv[0]
    if python in ("python", "python3", f"python{sys.version_info[0]}"):
        python = sys.executable  # as jupyter_client launches the native kernel
    try:
        done = subprocess.run(
            [python, "-c", "import ipykernel, smartcar_tutorial"],
            capture_output=True,
            timeout=COMMAND_SECONDS,
        )
    except OSError as exc:
        return Check("python3 kernel", False, f"cannot start {python}: {exc}", fix)
    if done.returncode != 0:
        return Check(
            "python3 kernel",
            False,
            f"{python} cannot import ipykernel and smartcar_tutorial",
            f"pip install smartcar-tutorial with {python}, or {fix}",
        )
    return Check("python3 kernel", True, f"runs {python}")


def check_sandbox_through_proxy(
    server_url: str | None = None, token: str | None = None
) -> Check:
    """A whole flow works through the proxy: consent pages, redirect, callback.

    Without ``server_url`` a Jupyter server is started for the check, with
    a hub's kind of base URL (``/user/doctor/``), in this environment.
    """
    from .auth_url import AuthClient, new_state
    from .callback_server import CallbackServer
    from .sandbox import Sandbox, SimulatedOwner

    name = "sandbox through proxy"
    fix = "install and enable jupyter-server-proxy (see above), then run again"
    with (
        Sandbox(port=0) as sandbox,
        CallbackServer("http://localhost:0/callback") as cb,
    ):
        sandbox.register_redirect_uri(cb.redirect_uri)
        client = AuthClient(
            sandbox.client_id,
            sandbox.client_secret,
            redirect_uri=cb.redirect_uri,
            mode="test",
            connect_origin=sandbox.origin,
        )
        state = new_state()
        flow = cb.expect(
            state, client.get_auth_url(["read_odometer"], {"state": state})
        )
        try:
            with _server_for_check(server_url, token) as (url, secret):
                link = Where("configured", public_base=url).browser_url(flow.auth_url)
                owner = SimulatedOwner(
                    "approve", timeout=30, headers={"Authorization": f"token {secret}"}
                )
                landed = owner.walk(link).url
        except Exception as exc:  # any failure is the check's answer
            return Check(name, False, f"the flow did not get through: {exc}", fix)
        if not (flow.done and flow.result and flow.result.ok):
            return Check(name, False, "the callback received no code", fix)
        if not landed.startswith(url):
            return Check(
                name,
                False,
                "the sandbox redirected around the proxy, to localhost",
                "reinstall smartcar-tutorial: this version cannot rewrite redirects",
            )
    return Check(name, True, "consent pages and the redirect back work via /proxy/")


@contextmanager
def _server_for_check(
    server_url: str | None, token: str | None
) -> Iterator[tuple[str, str]]:
    if server_url:
        yield (
            (server_url if server_url.endswith("/") else server_url + "/"),
            token or "",
        )
    else:
        with scratch_server.running("/user/doctor/") as running:
            yield running


def check_notebooks(folder: Path) -> Check:
    """Every notebook runs top to bottom, a simulated owner approving."""
    import nbformat
    from nbclient import NotebookClient

    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        return Check(
            "notebooks execute",
            False,
            f"no notebooks in {folder}",
            "run doctor from the repository's top folder, or pass --notebooks DIR",
        )
    started = time.monotonic()
    previous = os.environ.get("SMARTCAR_TUTORIAL_AUTOPILOT")
    os.environ["SMARTCAR_TUTORIAL_AUTOPILOT"] = "approve"  # the kernels inherit it
    try:
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb,
                timeout=CELL_SECONDS,
                kernel_name="python3",
                resources={"metadata": {"path": str(folder)}},
            )
            try:
                client.execute()
            except Exception as exc:
                first = str(exc).strip().splitlines()[-1:] or [type(exc).__name__]
                return Check(
                    "notebooks execute",
                    False,
                    f"{path.name} failed: {first[0][:200]}",
                    f"run {path.name} in JupyterLab to see the failing cell",
                )
    finally:
        if previous is None:
            os.environ.pop("SMARTCAR_TUTORIAL_AUTOPILOT", None)
        else:
            os.environ["SMARTCAR_TUTORIAL_AUTOPILOT"] = previous
    seconds = time.monotonic() - started
    return Check("notebooks execute", True, f"{len(notebooks)} ran in {seconds:.0f} s")


def run_checks(
    notebooks: Path | None,
    server_url: str | None = None,
    token: str | None = None,
    print_line: Callable[[str], None] = print,
) -> int:
    """Run every check, print one line each, and return the exit status."""
    checks: list[Callable[[], Check]] = [
        check_widget_front_end,
        check_server_proxy,
        check_ports,
        check_kernel,
        lambda: check_sandbox_through_proxy(server_url, token),
    ]
    if notebooks is not None:
        checks.append(lambda: check_notebooks(notebooks))
    failed = 0
    for check in checks:
        outcome = check()
        failed += not outcome.ok
        print_line(outcome.line())
    if notebooks is None:
        print_line(f"SKIP  {'notebooks execute':<24} --quick")
    print_line(
        f"{failed} of {len(checks)} checks failed" if failed else "All checks passed"
    )
    return 1 if failed else 0


def default_notebooks() -> Path:
    """The tutorial's notebooks: ``notebooks/`` under the current folder."""
    return Path.cwd() / "notebooks"
