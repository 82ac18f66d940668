"""A real kernel: what a learner sees when the callback server lives in it.

Each test starts a kernel with jupyter_client, sends cells the way
JupyterLab does, and reads the iopub messages the kernel publishes. Every
message carries the ``msg_id`` of the cell that caused it in its parent
header, and that is how a frontend decides which cell shows it: so "printed
into the wrong cell" is checked here exactly as a learner would see it.

The thread-and-output test runs on the installed ipykernel (7.x) and on
ipykernel 6, which still patched ``threading.Thread`` to keep a cell's
parent. ipykernel 6 is installed on first use into
``~/.cache/smartcar-tutorial/ipykernel6`` and loaded through a kernelspec
that puts that folder on ``PYTHONPATH``; the shared virtualenv stays as it
is.
"""

from __future__ import annotations

import ast
import json
import os
import queue
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psutil
import pytest
import requests
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

pytestmark = pytest.mark.localserver

CODE = "c0de-kernel-7f3a9b21-secretpart"
KERNEL_START_SECONDS = 60
IPYKERNEL6_SPEC = "smartcar-tutorial-ipykernel6"
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")

# Cells ------------------------------------------------------------------

IMPORTS = "import threading, time\nimport smartcar_tutorial as sct"

MAKE_FLOW = """\
client = sct.AuthClient("demo-id", "demo-secret",
                        redirect_uri=server.redirect_uri, mode="test")
flow = sct.start_flow(client, ["read_vehicle_info"], server)
"""

START_FLOW = (
    'server = sct.start_callback_server("http://localhost:0/callback")\n' + MAKE_FLOW
)

TICKS = 'for i in range(6):\n    print("tick", i)\n    time.sleep(0.5)'


# Driving a kernel -------------------------------------------------------


class KernelDriver:
    """Send cells to a kernel and keep every iopub message it publishes.

    Attributes:
        messages: Every iopub message read so far, in arrival order.
    """

    def __init__(self, manager: KernelManager) -> None:
        self.manager = manager
        self.client = manager.client()
        self.messages: list[dict[str, Any]] = []
        self._replies: dict[str, dict[str, Any]] = {}

    def submit(self, code: str) -> str:
        """Send a cell without waiting for it; return its msg_id."""
        return self.client.execute(code)

    def finish(self, msg_id: str, timeout: float = 10) -> dict[str, Any]:
        """Wait until the cell is done (reply and idle); return its reply."""
        deadline = time.monotonic() + timeout
        while not self._went_idle(msg_id):
            self._read_iopub(deadline, f"the end of cell {msg_id[:8]}")
        while msg_id not in self._replies:
            reply = self._read(
                self.client.get_shell_msg, deadline, f"the reply to cell {msg_id[:8]}"
            )
            self._replies[reply["parent_header"].get("msg_id")] = reply["content"]
        return self._replies[msg_id]

    def run(self, code: str, timeout: float = 10) -> dict[str, Any]:
        """Run a cell to the end and fail the test if it raised."""
        reply = self.finish(self.submit(code), timeout)
        if reply["status"] != "ok":
            traceback = ANSI_COLOURS.sub("", "\n".join(reply.get("traceback", [])))
            raise AssertionError(f"The cell {code!r} failed:\n{traceback}")
        return reply

    def evaluate(self, expression: str) -> Any:
        """Return the value of ``expression`` in the kernel (a Python literal)."""
        reply = self.finish(
            self.client.execute("", silent=True, user_expressions={"x": expression})
        )
        value = reply["user_expressions"]["x"]
        assert value["status"] == "ok", value
        return ast.literal_eval(value["data"]["text/plain"])

    def drain(self, seconds: float) -> None:
        """Keep reading iopub for ``seconds`` (threads may still publish)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._read_iopub(deadline, "")
        except TimeoutError:
            pass

    def outputs(self, msg_id: str) -> list[dict[str, Any]]:
        """Return what a frontend shows under the cell ``msg_id``."""
        kinds = ("stream", "display_data", "execute_result", "error")
        return [
            m
            for m in self.messages
            if m["msg_type"] in kinds and parent_of(m) == msg_id
        ]

    def _went_idle(self, msg_id: str) -> bool:
        return any(
            m["msg_type"] == "status"
            and m["content"]["execution_state"] == "idle"
            and parent_of(m) == msg_id
            for m in self.messages
        )

    def _read_iopub(self, deadline: float, what: str) -> None:
        self.messages.append(self._read(self.client.get_iopub_msg, deadline, what))

    @staticmethod
    def _read(get, deadline: float, what: str) -> dict[str, Any]:
        try:
            return get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError(f"The kernel took too long; waited for {what}") from None


def parent_of(message: dict[str, Any]) -> str | None:
    return message["parent_header"].get("msg_id")


@contextmanager
def running_kernel(
    kernel_name: str = "python3", spec_manager: KernelSpecManager | None = None
) -> Iterator[KernelDriver]:
    """Start a kernel, yield a driver for it, and always shut it down."""
    options = {"kernel_spec_manager": spec_manager} if spec_manager else {}
    manager = KernelManager(kernel_name=kernel_name, **options)
    # A flow nobody answers must stay unanswered: no simulated owner.
    env = {k: v for k, v in os.environ.items() if k != "SMARTCAR_TUTORIAL_AUTOPILOT"}
    manager.start_kernel(env=env)
    try:
        driver = KernelDriver(manager)
        driver.client.start_channels()
        try:
            driver.client.wait_for_ready(timeout=KERNEL_START_SECONDS)
            yield driver
        finally:
            driver.client.stop_channels()
    finally:
        manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel() -> Iterator[KernelDriver]:
    with running_kernel() as driver:
        driver.run(IMPORTS)
        yield driver


def ipykernel6_folder() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "smartcar-tutorial" / "ipykernel6"


def install_ipykernel6(target: Path) -> None:
    """Install ``ipykernel<7`` into ``target`` unless it is already there.

    pip writes into a sibling folder first, renamed only on success, so an
    interrupted run never leaves a half-filled cache behind.
    """
    if (target / "ipykernel" / "__init__.py").is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        str(partial),
        "ipykernel<7",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("pip took over 10 min to install ipykernel<7 (network?)")
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"could not install ipykernel<7 (no network?): {last}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)


@pytest.fixture(scope="session")
def ipykernel6_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernelspec for ipykernel 6: this Python, with it on PYTHONPATH."""
    target = ipykernel6_folder()
    install_ipykernel6(target)
    kernels = tmp_path_factory.mktemp("kernels")
    spec = kernels / IPYKERNEL6_SPEC
    spec.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    # Keep this process's PYTHONPATH after ipykernel 6, so both kernels import
    # the same smartcar_tutorial.
    path = [str(target), *filter(None, [os.environ.get("PYTHONPATH")])]
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": "Python 3 (ipykernel 6)",
                "language": "python",
                "env": {"PYTHONPATH": os.pathsep.join(path)},
            }
        )
    )
    return KernelSpecManager(kernel_dirs=[str(kernels)])


@pytest.fixture(params=["installed", "ipykernel6"])
def any_kernel(request) -> Iterator[tuple[KernelDriver, str]]:
    """A kernel on the installed ipykernel (7.x), then one on ipykernel 6."""
    if request.param == "installed":
        context = running_kernel()
    else:
        specs = request.getfixturevalue("ipykernel6_specs")
        context = running_kernel(IPYKERNEL6_SPEC, specs)
    with context as driver:
        driver.run(IMPORTS + "\nimport ipykernel")
        version = driver.evaluate("ipykernel.__version__")
        if request.param == "ipykernel6":
            assert version.startswith("6."), version
        yield driver, version


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redirect(redirect_uri: str, **params: str) -> requests.Response:
    """Do what the browser does after Connect: GET the redirect URI + answer."""
    return requests.get(
        f"{redirect_uri}?{urlencode(params)}", allow_redirects=False, timeout=5
    )


def abandon(redirect_uri: str, path: str) -> None:
    """Send a GET and reset the connection at once, as a closed tab does.

    The server then fails to write its answer: the error it hits must go
    to the log, not to a cell.
    """
    port = urlsplit(redirect_uri).port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        # Linger 0: close() sends a reset instead of a polite FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def trait_updates(driver: KernelDriver, comm_id: str, trait: str) -> list[Any]:
    """Return the values the kernel sent for one trait of one widget."""
    return [
        m["content"]["data"]["state"][trait]
        for m in driver.messages
        if m["msg_type"] == "comm_msg"
        and m["content"]["comm_id"] == comm_id
        and trait in m["content"]["data"].get("state", {})
    ]


# 1. Re-running the start cell -------------------------------------------


@pytest.mark.parametrize(
    "requested",
    [
        pytest.param("free", id="free-port"),
        pytest.param(0, id="port-0"),
    ],
)
def test_kernel_rerun_start_cell_keeps_one_server(kernel, requested):
    asked = free_port() if requested == "free" else 0
    uri = f"http://localhost:{asked}/callback"
    start = f"server = sct.start_callback_server({uri!r})"

    # Start the server, make a link, then run the start cell twice more.
    replies = [kernel.run(start)]
    kernel.run(MAKE_FLOW)
    replies += [kernel.run(start) for _ in "ab"]
    port, redirect_uri = kernel.evaluate("(server.port, server.redirect_uri)")

    assert [r["status"] for r in replies] == ["ok", "ok", "ok"]
    complaints = [
        m["content"]
        for m in kernel.messages
        if m["msg_type"] == "error"
        or (m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
    ]
    assert complaints == []
    assert "already in use" not in json.dumps([m["content"] for m in kernel.messages])
    threads = kernel.evaluate(
        "[t.name for t in threading.enumerate()"
        " if t.name.startswith('smartcar-tutorial')]"
    )
    assert threads == ["smartcar-tutorial callback server"]

    # One server, seen from outside: each loopback address is held once, by
    # the kernel, and answers as the callback server for this URI.
    kernel_pid = kernel.evaluate("__import__('os').getpid()")
    listeners = [
        c
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]
    addresses = [c.laddr.ip for c in listeners]
    assert "127.0.0.1" in addresses and len(set(addresses)) == len(addresses)
    assert {c.pid for c in listeners} == {kernel_pid}, listeners
    for address in addresses:
        host = f"[{address}]" if ":" in address else address
        health = requests.get(f"http://{host}:{port}/health", timeout=5).json()
        assert health["service"].startswith("smartcar-tutorial-callback"), health
        assert health["redirect_uri"] == redirect_uri
    assert asked == 0 or redirect_uri == uri

    # The link made before the re-runs still reaches its flow.
    flow_uri, state = kernel.evaluate("(flow.redirect_uri, flow.state)")
    assert redirect(flow_uri, code=CODE, state=state).status_code == 200
    assert kernel.evaluate("flow.wait(5).code") == CODE


# 2. Interrupting a waiting cell -----------------------------------------


# How the kernel's interrupt reaches the cell: a SIGINT (what JupyterLab's
# stop button does on Linux and macOS), or _thread.interrupt_main() from
# another thread, which is what ipykernel does on Windows (parentpoller.py).
# interrupt_main() only sets a flag: a wait that never wakes up would miss it.
INTERRUPTS = {
    "signal": "",
    "interrupt_main": (
        "import _thread\nthreading.Timer(1, _thread.interrupt_main).start()"
    ),
}


@pytest.mark.parametrize("interrupt", INTERRUPTS)
def test_kernel_interrupt_stops_wait_and_the_server_keeps_working(kernel, interrupt):
    kernel.run(START_FLOW)

    waiting = kernel.submit(INTERRUPTS[interrupt] + "\nflow.wait(timeout=60)")
    time.sleep(1)
    interrupted_at = time.monotonic()
    if interrupt == "signal":
        kernel.manager.interrupt_kernel()
    reply = kernel.finish(waiting, timeout=10)
    took = time.monotonic() - interrupted_at

    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    assert took < 5, f"the interrupt took {took:.1f} s to stop the cell"

    kernel.run("flow = sct.start_flow(client, ['read_vehicle_info'], server)")
    redirect_uri, state = kernel.evaluate("(server.redirect_uri, flow.state)")
    page = redirect(redirect_uri, code=CODE, state=state)
    assert page.status_code == 200
    assert kernel.evaluate("flow.wait(5).code") == CODE


# 3. Waiting without blocking --------------------------------------------


def test_kernel_flow_widget_leaves_the_kernel_free(kernel):
    kernel.run(START_FLOW)

    widget_cell = kernel.submit("widget = sct.FlowWidget(flow, timeout=30)\nwidget")
    sent = time.monotonic()
    next_cell = kernel.submit("1 + 1")
    reply = kernel.finish(next_cell, timeout=5)
    took = time.monotonic() - sent

    assert reply["status"] == "ok"
    assert took < 2, f"the next cell waited {took:.1f} s behind the widget"
    (result,) = kernel.outputs(next_cell)
    assert result["content"]["data"]["text/plain"] == "2"
    assert kernel.finish(widget_cell)["status"] == "ok"
    assert kernel.evaluate("flow.done") is False

    # Meanwhile the widget's status line keeps counting, on its own thread.
    kernel.drain(1.5)
    status_line = kernel.evaluate("widget.status.model_id")
    counted = trait_updates(kernel, status_line, "value")
    assert any(" 1 s of 30 s" in text for text in counted), counted


# 4. Threads and output --------------------------------------------------


def test_kernel_callback_reaches_only_the_widget(any_kernel):
    kernel, version = any_kernel
    kernel.run(START_FLOW)
    redirect_uri, state = kernel.evaluate("(server.redirect_uri, flow.state)")
    widget_cell = kernel.submit("widget = sct.FlowWidget(flow, timeout=30)\nwidget")
    kernel.finish(widget_cell)
    code_box = kernel.evaluate("widget.code.model_id")

    ticking_cell = kernel.submit(TICKS)
    time.sleep(1.2)
    # The browser's side, while the ticking cell runs: probes, a tab closed
    # mid-request, a method the server does not serve, a stray answer with
    # another state, the real answer, then a reload of it. Each of them
    # would print something if the server let it.
    abandon(redirect_uri, "/login")
    pages = [
        requests.get(f"{redirect_uri.rsplit('/', 1)[0]}/favicon.ico", timeout=5),
        requests.post(redirect_uri, data={"code": "posted"}, timeout=5),
        redirect(redirect_uri, code="not-ours", state="someone-else"),
        redirect(redirect_uri, code=CODE, state=state),
        redirect(redirect_uri, code=CODE, state=state),
    ]
    assert [p.status_code for p in pages] == [404, 501, 400, 200, 200]
    reply = kernel.finish(ticking_cell, timeout=10)
    kernel.drain(0.5)

    assert reply["status"] == "ok"
    assert CODE in trait_updates(kernel, code_box, "value"), version
    assert kernel.evaluate("flow.result.code") == CODE

    # The code arrived while the ticking cell still ran, not after it.
    answered = next(
        i for i, m in enumerate(kernel.messages) if CODE in json.dumps(m["content"])
    )
    idle = next(
        i
        for i, m in enumerate(kernel.messages)
        if parent_of(m) == ticking_cell
        and m["msg_type"] == "status"
        and m["content"]["execution_state"] == "idle"
    )
    assert answered < idle

    ticks = [m["content"] for m in kernel.outputs(ticking_cell)]
    assert all(t.get("name") == "stdout" for t in ticks), ticks
    assert "".join(t["text"] for t in ticks) == "".join(
        f"tick {i}\n" for i in range(6)
    ), version

    # The code reaches the page only through widget state, in any cell.
    carriers = {
        m["msg_type"] for m in kernel.messages if CODE in json.dumps(m["content"])
    }
    assert carriers == {"comm_msg"}, version
    shown = [m["msg_type"] for m in kernel.outputs(widget_cell)]
    assert shown == ["execute_result"], version
    stderr = [
        m["content"]["text"]
        for m in kernel.messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
    ]
    assert stderr == [], version


def test_kernel_answer_between_cells_reaches_the_next_cells_record(kernel):
    """A headless run keeps only updates that carry the cell it executes."""
    kernel.run(START_FLOW)
    redirect_uri, state = kernel.evaluate("(server.redirect_uri, flow.state)")
    kernel.run("widget = sct.FlowWidget(flow, timeout=30)\nwidget")
    code_box = kernel.evaluate("widget.code.model_id")

    # No cell runs: the updates carry the parent of the last one, finished.
    assert redirect(redirect_uri, code=CODE, state=state).status_code == 200
    kernel.drain(0.5)
    next_cell = kernel.submit("1 + 1")
    kernel.finish(next_cell)

    resent = [
        m["content"]["data"]["state"]["value"]
        for m in kernel.messages
        if m["msg_type"] == "comm_msg"
        and parent_of(m) == next_cell
        and m["content"]["comm_id"] == code_box
    ]
    assert resent == [CODE]
    later = kernel.submit("2 + 2")
    kernel.finish(later)
    assert not [
        m
        for m in kernel.messages
        if m["msg_type"] == "comm_msg" and parent_of(m) == later
    ], "sent again in every cell"
