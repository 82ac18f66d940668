"""The flow widget follows a flow from its link to its code or error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests

from smartcar_tutorial import AuthorizationResult, ConfigurationError
from smartcar_tutorial.callback_server import CallbackServer
from smartcar_tutorial.display import FlowWidget, link_button
from smartcar_tutorial.flow import PendingFlow

AUTH_URL = "https://connect.smartcar.com/oauth/authorize?client_id=a&state=s-1"


@pytest.fixture
def make_widget():
    """Build FlowWidgets and close them all after the test."""
    made: list[FlowWidget] = []

    def make(flow: PendingFlow, **kwargs) -> FlowWidget:
        widget = FlowWidget(flow, **kwargs)
        made.append(widget)
        return widget

    yield make
    for widget in made:
        widget.close()


def eventually(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_link_button_opens_the_url_in_a_new_tab():
    button = link_button('https://connect.example/auth?a=1&b="2"', text="Go <now>")

    assert 'href="https://connect.example/auth?a=1&amp;b=&quot;2&quot;"' in button.value
    assert 'target="_blank"' in button.value
    assert "noopener" in button.value
    assert "Go &lt;now&gt;" in button.value


def test_link_button_refuses_a_non_http_url():
    with pytest.raises(ConfigurationError, match="not an http"):
        link_button("javascript:alert(1)")


def test_flow_widget_shows_the_link_and_waits(make_widget):
    widget = make_widget(PendingFlow("s-1", AUTH_URL))

    assert "client_id=a&amp;state=s-1" in widget.link.value
    assert widget.status.value.startswith("Waiting for the owner to approve")
    assert widget.status.value.endswith("of 300 s")
    assert widget.code.value == "" and widget.code.disabled
    assert widget.ticking
    assert list(widget.children) == [
        widget.link,
        widget.status,
        widget.code,
        widget.message,
        widget.paste_box,
    ]


@pytest.mark.localserver
def test_flow_widget_shows_the_code_sent_to_the_callback_server(make_widget):
    with CallbackServer("http://localhost:0/callback") as server:
        widget = make_widget(server.expect("s-1", AUTH_URL))

        requests.get(f"{server.redirect_uri}?code=code-1234&state=s-1", timeout=5)

    assert eventually(lambda: widget.code.value == "code-1234")
    assert widget.status.value.startswith("Code received")
    assert "granted access" in widget.message.value
    assert eventually(lambda: not widget.ticking)


def test_flow_widget_explains_an_error_escaped(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    widget = make_widget(flow)
    result = AuthorizationResult(
        error="access_denied", error_description="<b>no</b>", state="s-1"
    )

    threading.Thread(target=flow.complete, args=(result,)).start()

    assert eventually(lambda: "pressed Deny" in widget.message.value)
    assert "&lt;b&gt;no&lt;/b&gt;" in widget.message.value
    assert "<b>" not in widget.message.value
    assert "access_denied" in widget.status.value
    assert widget.code.value == ""
    assert eventually(lambda: not widget.ticking)


def test_flow_widget_ticker_counts_then_stops_at_the_timeout(make_widget):
    widget = make_widget(PendingFlow("s-1", AUTH_URL), timeout=0.3, tick=0.05)

    assert eventually(lambda: not widget.ticking)

    assert widget.status.value == (
        "No answer after 0.3 s: open the link again, or run this cell again "
        "to start over."
    )


def test_flow_widget_status_is_not_overwritten_after_the_answer(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    widget = make_widget(flow, timeout=0.3, tick=0.05)

    flow.complete(AuthorizationResult(code="code-1", state="s-1"))
    time.sleep(0.5)

    assert widget.status.value.startswith("Code received")
    assert not widget.ticking


def test_flow_widget_for_a_done_flow_starts_no_ticker(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    flow.complete(AuthorizationResult(code="code-1", state="s-1"))

    widget = make_widget(flow)

    assert widget.code.value == "code-1"
    assert not widget.ticking


def test_flow_widget_shows_a_late_answer_after_the_timeout(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    widget = make_widget(flow, timeout=0.1, tick=0.05)
    assert eventually(lambda: not widget.ticking)

    flow.complete(AuthorizationResult(code="code-1", state="s-1"))

    assert widget.code.value == "code-1"
    assert widget.status.value.startswith("Code received")


def test_flow_widget_stop_ticker_and_close_stop_the_thread(make_widget):
    stopped = make_widget(PendingFlow("s-1", AUTH_URL))
    closed = make_widget(PendingFlow("s-2", AUTH_URL))
    assert stopped.ticking and closed.ticking

    stopped.stop_ticker()
    closed.close()

    assert not stopped.ticking and not closed.ticking
    assert stopped.status.value.startswith("Waiting")


def test_flow_widget_without_a_link_says_so(make_widget):
    widget = make_widget(PendingFlow("s-1"))

    assert "no link" in widget.link.value


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": None}, {"tick": -1}])
def test_flow_widget_rejects_unusable_times(kwargs):
    with pytest.raises(ConfigurationError, match="positive number"):
        FlowWidget(PendingFlow("s-1", AUTH_URL), **kwargs)


def test_flow_widget_paste_box_takes_a_pasted_address(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    widget = make_widget(flow)

    widget.paste.value = "http://localhost:8080/callback?code=pasted-code&state=s-1"
    widget.use_pasted.click()

    assert flow.result is not None and flow.result.code == "pasted-code"
    assert widget.code.value == "pasted-code"


def test_flow_widget_paste_box_refuses_another_flows_state(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    widget = make_widget(flow)

    widget.paste.value = "http://localhost:8080/callback?code=c&state=someone-else"
    widget.use_pasted.click()

    assert not flow.done
    assert "someone-else" in widget.message.value
    assert "not accepted" in widget.message.value
    assert widget.paste.value.endswith("someone-else"), "the pasted text was lost"


def test_flow_widget_paste_box_explains_text_without_an_answer(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    widget = make_widget(flow)

    widget.paste.value = "http://localhost:8080/callback"
    widget.use_pasted.click()

    assert not flow.done
    assert "neither a code nor an error" in widget.message.value


def test_flow_widget_paste_box_takes_a_bare_code(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    widget = make_widget(flow)

    widget.paste.value = "  bare-code-123 "
    widget.use_pasted.click()

    assert widget.code.value == "bare-code-123"


def test_flow_widget_shows_a_refused_answer_while_waiting(make_widget):
    flow = PendingFlow("s-1", AUTH_URL)
    widget = make_widget(flow)

    flow.notify("An answer whose state matches no link was refused.")

    assert "was refused" in widget.message.value
    assert not flow.done
