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
import html
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import PortInUseError

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class QuietHandler(BaseHTTPRequestHandler):
    """Request handler that logs through :mod:`logging` and has reply helpers."""

    server_version = "smartcar-tutorial"
    protocol_version = "HTTP/1.1"

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

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


def simple_page(title: str, message: str, status_class: str = "") -> str:
    """Return a tiny standalone HTML page; both strings are escaped."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body class='{html.escape(status_class)}' style='font-family:sans-serif;"
        "max-width:36em;margin:2em auto;padding:0 1em'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: BackgroundServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr, i.e. into a random cell.
        logger.exception("Error while answering %s", client_address[0])


class BackgroundServer:
    """Serve ``handler_class`` on ``host:port`` from a daemon thread.

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
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            return self.requested_port
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The origin a browser on this machine uses, ``http://localhost:N``."""
        return f"http://localhost:{self.port}"

    def start(self) -> BackgroundServer:
        """Bind and start serving; a second call on a running server is a no-op.

        Raises:
            PortInUseError: Another program holds the port.
        """
        with self._lock:
            if self._httpd is not None:
                return self
            try:
                httpd = _Server((self.host, self.requested_port), self.handler_class)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                raise PortInUseError(
                    f"The {self.name} cannot listen on port {self.requested_port}: "
                    "another program holds it. Stop that program (or the other "
                    "notebook's kernel), or choose another port."
                ) from exc
            httpd.owner = self
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"smartcar-tutorial {self.name}",
                daemon=True,
            )
            self._thread.start()
        logger.info("%s listening on %s", self.name.capitalize(), self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call more than once."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        logger.info(
            "%s on port %d stopped", self.name.capitalize(), httpd.server_address[1]
        )

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
