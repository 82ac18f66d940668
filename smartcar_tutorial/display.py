"""Widgets that show a flow in the notebook while the owner goes through Connect.

The callback server completes the flow in its own thread, and a ticker
thread counts the seconds. Both change the widgets only by assigning
traits (``label.value = ...``): from a thread, ``print``, ``display`` or
``with out:`` land in whichever cell runs at the time, or nowhere. An answer
that arrives from a thread is sent to the page once more as the next cell
starts: a headless run (papermill, nbclient) records only the updates that
carry the cell it is executing, and would miss one that came between cells.

    flow = server.expect(state, auth_url)
    FlowWidget(flow, timeout=300)      # last line of the cell: shows it
"""

from __future__ import annotations

import html
import logging
import math
import threading
import time
from urllib.parse import parse_qs, urlsplit

import ipywidgets as widgets
from IPython import get_ipython

from . import where
from .browser_check import FLOW_CLASS, LINK_CLASS, browser_check
from .errors import ConfigurationError, StateMismatchError
from .flow import PendingFlow
from .result import AuthorizationResult, parse_redirect

logger = logging.getLogger(__name__)

_BUTTON_STYLE = (
    "display:inline-block;padding:.45em 1.1em;border-radius:4px;"
    "background:#2563eb;color:#fff;font-weight:600;text-decoration:none"
)


def link_button(url: str, text: str = "Open Smartcar Connect") -> widgets.HTML:
    """Return a link styled as a button that opens ``url`` in a new tab.

    On JupyterHub and Binder a link to a port of this kernel goes through
    the server's proxy (:meth:`~smartcar_tutorial.where.Where.browser_url`),
    since ``localhost`` in the learner's browser is the learner's own laptop.

    Args:
        url: An ``http://`` or ``https://`` address, usually the auth URL.
        text: The button's label.

    Raises:
        ConfigurationError: ``url`` is not an http(s) address.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise ConfigurationError(
            f"{url[:80]!r} is not an http(s) address, so it cannot be opened "
            "as a link. Pass the auth URL that get_auth_url() returned."
        )
    href = where.detect().browser_url(url)
    return widgets.HTML(
        f'<a href="{html.escape(href, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer" class="{LINK_CLASS}" style="{_BUTTON_STYLE}">'
        f"{html.escape(text)}</a>"
    )


def _remote_live_help(auth_url: str) -> str:
    """Explain the paste box to a learner whose kernel is far from the browser."""
    sent = parse_qs(urlsplit(auth_url).query).get("redirect_uri", [""])[0]
    redirect = html.escape(sent or "your redirect URI")
    return (
        "<p>This kernel runs on a server, not on your computer, and Smartcar "
        f"redirects only to the URI registered for your app ({redirect}). After "
        "you approve, your browser opens that address on your own computer, "
        "where nothing answers: the page fails to load. That is expected. Copy "
        "the whole address of that page and paste it in the box below; it "
        "gets the same checks as an answer that reaches the kernel.</p>"
    )


_PASTE_HELP = (
    "<p>On a remote kernel, or with a redirect URI the browser cannot reach, "
    "the browser ends on a page that fails to load. Copy that page's whole "
    "address from the address bar (or just the code) and paste it here.</p>"
)


class FlowWidget(widgets.VBox):
    """Show a flow's link, a live status line, and then its code or error.

    Args:
        flow: The flow to follow, from ``CallbackServer.expect()``.
        timeout: Seconds to count before saying that no answer came.
        tick: Seconds between status updates.

    Attributes:
        link: The button-styled link to ``flow.auth_url``.
        status: One line: waiting, received, error or timed out.
        code: Read-only box holding the code once it arrives.
        message: Plain-words explanation of the answer.

    Raises:
        ConfigurationError: ``timeout`` or ``tick`` is not a positive number.
    """

    def __init__(self, flow: PendingFlow, timeout: float = 300, *, tick: float = 1.0):
        for name, value in (("timeout", timeout), ("tick", tick)):
            number = isinstance(value, (int, float)) and math.isfinite(value)
            if not number or value <= 0:
                raise ConfigurationError(
                    f"{name}={value!r} is not a positive number of seconds. "
                    "Pass one, such as timeout=300."
                )
        if flow.auth_url:
            link = link_button(flow.auth_url)
        else:
            link = widgets.HTML("<em>This flow has no link to open.</em>")
        status = widgets.Label(value=self._waiting_text(0, timeout))
        code = widgets.Text(
            value="",
            placeholder="the code appears here",
            description="Code",
            disabled=True,
            layout=widgets.Layout(width="32em"),
        )
        message = widgets.HTML(value="")
        paste = widgets.Text(
            placeholder="http://localhost:8080/callback?code=…&state=…",
            layout=widgets.Layout(width="32em"),
        )
        use = widgets.Button(description="Use this address")
        pasting = [widgets.HTML(_PASTE_HELP), paste, use]
        here = where.detect()
        check = browser_check(flow.auth_url, here, _remote_live_help)
        if check is not None:  # lets the page fix the link where the kernel can't
            pasting.append(check)
        paste_box = widgets.Accordion(
            children=[widgets.VBox(pasting)],
            titles=("The browser cannot reach this kernel?",),
        )
        super().__init__(children=[link, status, code, message, paste_box])
        self.add_class(FLOW_CLASS)
        self.paste_box = paste_box
        if here.remote and flow.auth_url and here.proxy_path(flow.auth_url) is None:
            # Smartcar itself: its redirect cannot reach a remote kernel.
            message.value = _remote_live_help(flow.auth_url)
            paste_box.selected_index = 0

        self.flow = flow
        self.timeout = float(timeout)
        self.link, self.status, self.code, self.message = link, status, code, message
        self.paste, self.use_pasted = paste, use
        use.on_click(lambda _button: self.use_address(paste.value))
        self._tick = float(tick)
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

        # Subscribe first: a flow that is already done stops the ticker at once.
        flow.subscribe(self._show_result)
        flow.subscribe_notices(self._show_notice)
        if not self._stopped.is_set():
            self._ticker = threading.Thread(
                target=self._run_ticker,
                name=f"smartcar-tutorial ticker {flow.state[:16]}",
                daemon=True,
            )
            self._ticker.start()

    @property
    def ticking(self) -> bool:
        """True while the ticker thread updates the status line."""
        return self._ticker is not None and self._ticker.is_alive()

    def stop_ticker(self) -> None:
        """Stop counting seconds; the status line keeps its last text."""
        stopped = getattr(self, "_stopped", None)
        if stopped is None:  # __init__ failed before the ticker existed
            return
        stopped.set()
        ticker = self._ticker
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(timeout=self._tick + 1)

    def close(self) -> None:
        """Stop the ticker and remove the widget and its parts from the page."""
        self.stop_ticker()
        for child in getattr(self, "children", ()):
            child.close()
        super().close()

    def use_address(self, text: str) -> None:
        """Take the answer from an address (or code) the learner pasted.

        It gets the parsing and ``state`` check of a live callback; what was
        wrong with it is shown in the widget, and nothing is lost.
        """
        try:
            taken = self.flow.offer(parse_redirect(text))
        except (ConfigurationError, StateMismatchError) as exc:
            self.message.value = f"<p style='color:#b42318'>{html.escape(str(exc))}</p>"
            return
        if not taken:
            self.message.value = (
                "<p>This flow already has its answer; the pasted one was not "
                "used. Run the cell again to start a new flow.</p>"
            )

    def _show_notice(self, notice: str) -> None:
        # Called from the callback server's thread: only trait assignments.
        with self._lock:
            if not self.flow.done:
                self.message.value = f"<p>{html.escape(notice)}</p>"

    def _run_ticker(self) -> None:
        # Runs in its own thread: only trait assignments below.
        while True:
            remaining = self.timeout - (time.monotonic() - self._started)
            if self._stopped.wait(min(self._tick, max(0.0, remaining))):
                return
            elapsed = time.monotonic() - self._started
            with self._lock:
                if self._stopped.is_set():
                    return
                if elapsed >= self.timeout:
                    self._stopped.set()
                    self.status.value = (
                        f"No answer after {self.timeout:g} s: open the link again, "
                        "or run this cell again to start over."
                    )
                    return
                self.status.value = self._waiting_text(elapsed, self.timeout)

    def _show_result(self, result: AuthorizationResult) -> None:
        # Called from the callback server's thread: only trait assignments.
        if threading.current_thread() is not threading.main_thread():
            self._resend_when_the_next_cell_starts()
        with self._lock:
            self._stopped.set()
            if result.ok:
                self.status.value = "Code received."
                self.code.value = result.code or ""
                self.message.value = (
                    f"<p>{html.escape(result.explain())} The code works once and "
                    "for 10 minutes: exchange it for tokens next.</p>"
                )
            else:
                self.status.value = f"Connect answered with an error: {result.error}"
                self.message.value = (
                    f"<p style='color:#b42318'>{html.escape(result.explain())}</p>"
                )
        logger.debug("Widget for flow %r shows its answer", self.flow.state)

    def _resend_when_the_next_cell_starts(self) -> None:
        events = getattr(get_ipython(), "events", None)
        if events is not None:  # appending to its list is safe from a thread
            events.register("pre_run_cell", self._resend_answer)

    def _resend_answer(self, *_info: object) -> None:
        # IPython calls this in the main thread, with the new cell's parent.
        get_ipython().events.unregister("pre_run_cell", self._resend_answer)
        if getattr(self, "comm", None) is None:  # closed meanwhile
            return
        for part in (self.status, self.code, self.message):
            part.send_state()

    @staticmethod
    def _waiting_text(elapsed: float, timeout: float) -> str:
        return f"Waiting for the owner to approve… {elapsed:.0f} s of {timeout:g} s"
