"""A small HTTP server that runs in a background thread on loopback.

Both the kernel's callback server and the sandbox are built on it. It binds
before :meth:`BackgroundServer.start` returns, so the port is known and
a busy port fails at once, and it never prints: request lines go to the
logger, so nothing lands in whichever notebook cell happens to run.

    with BackgroundServer(MyHandler, port=0) as server:
        requests.get(server.url + "/ping")
"""

from __future__ import annotations

import errno
import json
import logging
import os
import selectors
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import where
from .errors import PortInUseError
from .ports import (
    HANDOVER_HEADER,
    HANDOVER_PATH,
    SERVICE_PREFIX,
    describe_port_holder,
    is_held_by_this_process,
    is_held_by_this_user,
    request_handover,
)

logger = logging.getLogger(__name__)

TAKE_OVER_SECONDS = 3.0
LOOPBACK = "localhost"  # 127.0.0.1 and ::1; never any other interface


class QuietHandler(BaseHTTPRequestHandler):
    """Request handler that logs through :mod:`logging` and has reply helpers."""

    server_version = "smartcar-tutorial"
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm the body
    # would wait for the client's delayed ACK, about 40 ms a page.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes to stderr, which a notebook shows in a random cell,
        # and prints the query, which may hold a code.
        logger.debug("%s %s", self.command, self.path.split("?", 1)[0])

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_html(self, status: int, page: str) -> None:
        self.send_body(status, page.encode("utf-8"), "text/html; charset=utf-8")

    def send_json(
        self, status: int, data: Any, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(data).encode("utf-8")
        self.send_body(status, body, "application/json", headers)

    def send_redirect(self, location: str, status: int = 302) -> None:
        self.send_body(status, b"", "text/plain", {"Location": location})

    def parse_request(self) -> bool:
        # Every server of this package yields its port to a newer one from
        # another kernel on request. The custom header keeps browsers' plain
        # cross-site form posts from triggering it.
        if not super().parse_request():
            return False
        if (
            self.command == "POST"
            and self.path == HANDOVER_PATH
            and self.headers.get(HANDOVER_HEADER) == "1"
        ):
            self.close_connection = True
            self.send_body(202, b"", "text/plain")
            owner = self.server.owner  # type: ignore[attr-defined]
            threading.Thread(target=owner.hand_over, daemon=True).start()
            return False
        if where.is_forwarded_elsewhere(self.headers, where.detect()):
            # On a hub whose users share one loopback, another user's proxy
            # reaches this port too: answer, but serve nothing of this kernel's.
            logger.warning(
                "Refused a request that came through %s",
                self.headers.get("X-Forwarded-Prefix"),
            )
            self.close_connection = True
            self.send_body(403, _OTHER_USER_PAGE, "text/html; charset=utf-8")
            return False
        return True

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


_OTHER_USER_PAGE = (
    b"<!doctype html><meta charset='utf-8'><title>Another user's server</title>"
    b"<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;"
    b"padding:0 1em;line-height:1.5}</style>"
    b"<h1>This port belongs to another user's notebook</h1><p>On this hub the "
    b"users' kernels share one machine, and this port is another user's. Go "
    b"back to your notebook and open the link it shows you.</p>"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR lets a restarted kernel rebind at once on POSIX; on Windows
    # it would let a second process share the port, so exclusive use there.
    allow_reuse_address = sys.platform != "win32"
    # socketserver's default of 5 makes a 6th simultaneous connect wait for
    # the client's SYN retry, about 1 s (benchmarks/callback_latency.py).
    request_queue_size = 64
    owner: BackgroundServer

    def server_bind(self) -> None:
        if sys.platform == "win32":
            exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
            if exclusive is not None:
                self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        super().server_bind()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr, i.e. into a random cell.
        logger.exception("Error while answering %s", client_address[0])


class _Server6(_Server):
    address_family = socket.AF_INET6


class BackgroundServer:
    """Serve ``handler_class`` on ``host:port`` from one daemon thread.

    With ``host="localhost"`` (the default) it listens on both 127.0.0.1 and
    ::1, so a browser that resolves ``localhost`` to either address gets in.

    Args:
        handler_class: A :class:`QuietHandler` subclass; it reaches this
            object as ``self.server.owner``.
        port: The port to listen on; 0 picks a free one.
        host: The address to bind; loopback unless told otherwise.
        name: Shown in logs and error messages.
    """

    def __init__(
        self,
        handler_class: type[BaseHTTPRequestHandler],
        port: int = 0,
        host: str = LOOPBACK,
        name: str = "server",
    ) -> None:
        self.handler_class = handler_class
        self.host = host
        self.requested_port = port
        self.name = name
        self._httpds: list[_Server] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.took_over_from: str | None = None

    @property
    def running(self) -> bool:
        return bool(self._httpds)

    @property
    def port(self) -> int:
        if not self._httpds:
            return self.requested_port
        return self._httpds[0].server_address[1]

    @property
    def addresses(self) -> list[str]:
        """The addresses actually listened on, such as ``['127.0.0.1', '::1']``."""
        return [httpd.server_address[0] for httpd in self._httpds]

    @property
    def url(self) -> str:
        """The origin a browser on this machine uses, ``http://localhost:N``."""
        return f"http://localhost:{self.port}"

    def start(self, take_over: bool = False) -> BackgroundServer:
        """Bind and start serving; a second call on a running server is a no-op.

        Args:
            take_over: When one of this package's servers in another process
                (another notebook's kernel) holds the port, ask it to stop and
                take the port. :attr:`took_over_from` then names it.

        Raises:
            PortInUseError: Another program holds the port; the message says
                which when it is one of this package's servers.
        """
        with self._lock:
            if self._httpds:
                return self
            self._httpds = self._bind(take_over)
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._serve,
                args=(list(self._httpds),),
                name=f"smartcar-tutorial {self.name}",
                daemon=True,
            )
            self._thread.start()
        logger.info("%s listening on %s", self.name.capitalize(), self.url)
        return self

    def _bind(self, take_over: bool) -> list[_Server]:
        try:
            return self._bind_all()
        except PortInUseError:
            if is_held_by_this_process(self.requested_port):
                raise PortInUseError(
                    f"This kernel already runs a {self.name} on port "
                    f"{self.requested_port}. Use that one (start_callback_server() "
                    "returns it), or call .stop() on it first."
                ) from None
            holder = describe_port_holder(self.requested_port)
            if not (
                take_over
                and holder
                and is_held_by_this_user(self.requested_port)
                and request_handover(self.requested_port)
            ):
                raise
        deadline = time.monotonic() + TAKE_OVER_SECONDS
        while True:
            try:
                httpds = self._bind_all()
            except PortInUseError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            self.took_over_from = holder
            logger.info("Took port %d over from %s", self.requested_port, holder)
            return httpds

    def _bind_all(self) -> list[_Server]:
        hosts = ("127.0.0.1", "::1") if self.host == LOOPBACK else (self.host,)
        httpds: list[_Server] = []
        port = self.requested_port
        try:
            for host in hosts:
                httpd = _bind_one(host, port, self.handler_class)
                if httpd is None:  # this machine has no such address, e.g. no IPv6
                    continue
                httpd.owner = self
                httpds.append(httpd)
                port = httpd.server_address[1]  # IPv6 follows IPv4's free port
        except OSError as exc:
            for httpd in httpds:
                httpd.server_close()
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PortInUseError(self._busy_message(port)) from None
        return httpds

    def hand_over(self) -> None:
        """Stop because a newer server in another kernel wants the port."""
        logger.warning(
            "Another kernel took port %d over; the %s stopped", self.port, self.name
        )
        self.stop()

    def health(self) -> dict[str, object]:
        """What ``GET /health`` reports: enough to tell who holds a port."""
        notebook = os.environ.get("JPY_SESSION_NAME")
        return {
            "service": SERVICE_PREFIX + self.name.replace(" ", "-"),
            "pid": os.getpid(),
            "notebook": os.path.basename(notebook) if notebook else None,
            "user": where.current_user(),
        }

    def _busy_message(self, port: int) -> str:
        holder = describe_port_holder(port)
        if holder:
            return (
                f"The {self.name} cannot listen on port {port}: {holder} holds "
                "it. Shut that kernel down (Kernel > Shut Down Kernel in its "
                "tab), or start this server with take_over=True, which stops "
                "that one."
            )
        return (
            f"The {self.name} cannot listen on port {port}: another program holds "
            f"it. Stop that program (find it with: lsof -i :{port}), or choose "
            "another port."
        )

    def _serve(self, httpds: list[_Server]) -> None:
        # One thread for every address: wait on all sockets at once.
        with selectors.DefaultSelector() as selector:
            for httpd in httpds:
                selector.register(httpd, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=0.1):
                    key.fileobj.handle_request()

    def stop(self) -> None:
        """Stop serving and release the port; safe to call more than once."""
        with self._lock:
            httpds, thread = self._httpds, self._thread
            self._httpds, self._thread = [], None
            if not httpds:
                return
            port = httpds[0].server_address[1]
            self._stopping.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        for httpd in httpds:
            httpd.server_close()
        logger.info("%s on port %d stopped", self.name.capitalize(), port)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _bind_one(host: str, port: int, handler: type) -> _Server | None:
    server_class = _Server6 if ":" in host else _Server
    try:
        return server_class((host, port), handler)
    except OSError as exc:
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) and host == "::1":
            logger.debug("No IPv6 loopback here; listening on IPv4 only")
            return None
        raise
