"""Saved widget state becomes the text a static page shows."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from smartcar_tutorial.widget_text import (
    STATE_MIME,
    VIEW_MIME,
    render_widget,
    replace_widget_views,
    widget_models,
)

AUTH_URL = "http://localhost:8081/oauth/authorize?response_type=code&state=abc"


def model(name: str, **state) -> dict:
    return {
        "model_name": name,
        "model_module": "@jupyter-widgets/controls",
        "state": state,
    }


def flow_widget(code: str = "", status: str = "Code received.", message: str = ""):
    """The models a FlowWidget saves: link, status, code, message, paste box."""
    return {
        "box": model("VBoxModel", children=[f"IPY_MODEL_{n}" for n in "lscmp"]),
        "l": model(
            "HTMLModel",
            value=f'<a href="{AUTH_URL.replace("&", "&amp;")}" target="_blank" '
            'style="color:#fff">Open Smartcar Connect</a>',
        ),
        "s": model("LabelModel", value=status),
        "c": model("TextModel", value=code, description="Code", disabled=True),
        "m": model("HTMLModel", value=message),
        "p": model(
            "AccordionModel",
            children=["IPY_MODEL_pv"],
            titles=["The browser cannot reach this kernel?"],
            selected_index=None,
        ),
        "pv": model("VBoxModel", children=["IPY_MODEL_ph", "IPY_MODEL_pb"]),
        "ph": model("HTMLModel", value="<p>Paste the address here.</p>"),
        "pb": model("ButtonModel", description="Use this address"),
    }


def test_render_widget_shows_link_status_code_and_message_in_markdown():
    models = flow_widget("0b1c-code", message="<p>The owner <b>granted</b> access.</p>")

    text = render_widget(models, "box")

    assert text.splitlines() == [
        f"> [Open Smartcar Connect]({AUTH_URL})",
        ">",
        "> Code received.",
        ">",
        "> Code: `0b1c-code`",
        ">",
        "> The owner granted access.",
        ">",
        "> ▸ *The browser cannot reach this kernel?*",
    ]


def test_render_widget_shows_an_error_without_an_empty_code_line():
    models = flow_widget(
        status="Connect answered with an error: access_denied",
        message="<p style='color:#b42318'>The vehicle owner pressed Deny.</p>",
    )

    text = render_widget(models, "IPY_MODEL_box")

    assert "> Connect answered with an error: access\\_denied" not in text
    assert "> Connect answered with an error: access_denied" in text
    assert "> The vehicle owner pressed Deny." in text
    assert "Code:" not in text


def test_render_widget_in_html_keeps_the_link_and_escapes_text():
    models = flow_widget("0b1c", status="<script>alert(1)</script>")

    text = render_widget(models, "box", "html")

    assert text.startswith("<blockquote><p><a href=")
    assert f'href="{AUTH_URL.replace("&", "&amp;")}"' in text
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in text
    assert "<p>Code: <code>0b1c</code></p>" in text
    assert "<details><summary>The browser cannot reach this kernel?</summary>" in text
    assert "style=" not in text


def test_render_widget_never_writes_a_password():
    models = {"pw": model("PasswordModel", value="s3cret-value", description="Secret")}

    for fmt in ("markdown", "html"):
        text = render_widget(models, "pw", fmt)
        assert "s3cret-value" not in text
        assert "Secret: (hidden)" in text


def test_render_widget_drops_links_that_are_not_http():
    models = {"h": model("HTMLModel", value="<a href='javascript:alert(1)'>x</a>")}

    assert render_widget(models, "h") == "> x"


def test_render_widget_says_so_when_the_model_is_gone():
    assert "closed" in render_widget({}, "missing")


def test_render_widget_refuses_an_unknown_format():
    with pytest.raises(ValueError):
        render_widget({}, "x", "pdf")


def test_replace_widget_views_renders_each_view_and_drops_the_state():
    view = {"model_id": "box", "version_major": 2, "version_minor": 0}
    output = new_output(
        "display_data", data={VIEW_MIME: view, "text/plain": "FlowWidget(...)"}
    )
    nb = new_notebook(cells=[new_code_cell("w", outputs=[output])])
    nb.metadata["widgets"] = {STATE_MIME: {"state": flow_widget("c0de")}}
    assert set(widget_models(nb)) >= {"box", "l"}

    assert replace_widget_views(nb, "markdown") == 1

    data = nb.cells[0].outputs[0]["data"]
    assert list(data) == ["text/markdown"]
    assert "> Code: `c0de`" in data["text/markdown"]
    assert "widgets" not in nb.metadata
