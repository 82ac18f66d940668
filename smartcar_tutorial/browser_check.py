"""A check that runs in the learner's page, where the kernel cannot look.

The kernel knows it runs on JupyterHub or Binder from their environment
variables (:mod:`~smartcar_tutorial.where`). A plain ``jupyter lab`` on a
remote machine sets none, yet ``localhost`` in the learner's browser is
then the learner's own laptop. The page knows: its address bar names
another host. This invisible widget reads it when the flow widget is
drawn and, for a browser elsewhere, points the widget's link at
jupyter-server-proxy's address of the sandbox (``<base>proxy/8081/…``),
using the server's base URL that JupyterLab's page carries. For Smartcar
itself, whose redirect cannot come back through the proxy, it opens the
paste box and says why.

It needs anywidget's front end; without anywidget there is no check, and
the link is what the kernel could tell.

    check = browser_check(flow.auth_url, where.detect(), explain)
"""

from __future__ import annotations

from collections.abc import Callable

from .where import Where

try:
    import anywidget
    import traitlets
except ImportError:  # pragma: no cover - anywidget is a dependency
    anywidget = None

#: CSS classes of the flow widget and of its link, which the script names.
FLOW_CLASS = "smartcar-flow"
LINK_CLASS = "smartcar-connect-link"

# Runs in the page. It touches only the flow widget it belongs to; until
# the link's own view is drawn it tries again, for at most two seconds.
_ESM = """
const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

function baseUrl() {
  const data = document.getElementById("jupyter-config-data");
  try {
    return JSON.parse(data.textContent).baseUrl || "/";
  } catch (error) {
    return "/";
  }
}

function fix(model, el, tries) {
  const flow = el.closest(".smartcar-flow");
  const link = flow && flow.querySelector("a.smartcar-connect-link");
  if (!link) {
    if (tries > 0) setTimeout(() => fix(model, el, tries - 1), 100);
    return;
  }
  const path = model.get("proxy_path");
  if (path) {
    link.href = new URL(baseUrl() + path, window.location.href).href;
    link.dataset.seenFrom = "proxy";
  } else if (!model.get("remote") && model.get("note")) {
    el.innerHTML = model.get("note");
    el.style.display = "";
    const header = flow.querySelector(".jupyter-widget-Collapse-header");
    const open = flow.querySelector(".jupyter-widget-Collapse-open");
    if (header && !open) header.click();
  }
}

export default {
  render({ model, el }) {
    el.style.display = "none";
    const here = LOOPBACK.includes(window.location.hostname);
    if (here && !model.get("remote")) return;
    fix(model, el, 20);
  },
};
"""

if anywidget is not None:

    class _BrowserCheck(anywidget.AnyWidget):
        """Invisible: fixes its flow widget's link for a browser elsewhere."""

        _esm = _ESM
        proxy_path = traitlets.Unicode("").tag(sync=True)
        remote = traitlets.Bool(False).tag(sync=True)
        note = traitlets.Unicode("").tag(sync=True)


def browser_check(
    auth_url: str | None, here: Where, live_help: Callable[[str], str]
) -> object | None:
    """Return the invisible check for a flow widget, or None without anywidget.

    Args:
        auth_url: The flow's link, kernel-local for the sandbox.
        here: Where the kernel thinks it runs.
        live_help: Returns the HTML that explains the paste box for a link
            to Smartcar itself.
    """
    if anywidget is None or not auth_url:
        return None
    path = here.proxy_path(auth_url)
    return _BrowserCheck(
        proxy_path=path or "",
        remote=here.remote,
        note="" if path else live_help(auth_url),
    )
