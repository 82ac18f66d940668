"""Readable text for widgets, which no static page can draw.

A notebook run headless keeps two things for each widget: the cell's output
holds a *view* (only a model id), and ``metadata.widgets`` holds the final
state of every model. This module walks that state from the view's model
down through its children and writes what the learner saw at that point:
the link, the status line, the code received or the error.

    models = widget_models(nb)
    text = render_widget(models, model_id, "markdown")
    replace_widget_views(nb, "html")   # every view in nb becomes HTML text
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

VIEW_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
FORMATS = ("markdown", "html")

_MODEL_REF = "IPY_MODEL_"
_BOXES = {"VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel"}
_COLLAPSIBLES = {"AccordionModel", "TabModel", "StackModel"}
_TEXT_INPUTS = {"TextModel", "TextareaModel", "ComboboxModel"}

#: One run of text in a paragraph: ("text" | "code" | "link", text, href).
Segment = tuple[str, str, str]


@dataclass
class _Section:
    """A collapsible part (an accordion's pane), open or closed."""

    title: str
    is_open: bool
    blocks: list[Block]


#: A paragraph of segments, or a collapsible section.
Block = list[Segment] | _Section


def widget_models(nb: Mapping[str, Any]) -> dict[str, dict]:
    """Return the saved widget models of an executed notebook, by model id."""
    saved = nb.get("metadata", {}).get("widgets", {}).get(STATE_MIME, {})
    return dict(saved.get("state", {}))


def render_widget(
    models: Mapping[str, dict], model_id: str, fmt: str = "markdown"
) -> str:
    """Return the widget ``model_id`` and its children as Markdown or HTML.

    Args:
        models: Saved widget models, from :func:`widget_models`.
        model_id: The model a cell's widget view points at.
        fmt: ``"markdown"`` or ``"html"``.

    Returns:
        A quoted block with one paragraph per visible part. A password's
        value is never written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt={fmt!r} is not one of {FORMATS}.")
    blocks = _Walker(models).blocks(model_id)
    if not blocks:
        blocks = [[("text", "(an empty widget)", "")]]
    if fmt == "html":
        return f"<blockquote>{''.join(_html_block(b) for b in blocks)}</blockquote>"
    body = "\n\n".join(_markdown_block(b) for b in blocks)
    return "\n".join(f"> {line}".rstrip() for line in body.splitlines())


def replace_widget_views(nb: Any, fmt: str = "markdown") -> int:
    """Replace every widget view in ``nb`` by its rendering; return how many.

    The saved widget state is dropped afterwards: it holds random model
    ids, and an HTML page would otherwise try to draw it with JavaScript.
    """
    models = widget_models(nb)
    mime = "text/html" if fmt == "html" else "text/markdown"
    replaced = 0
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(VIEW_MIME)
            if view is None:
                continue
            output["data"] = {mime: render_widget(models, view["model_id"], fmt)}
            output["metadata"] = {}
            replaced += 1
    nb.get("metadata", {}).pop("widgets", None)
    return replaced


class _Walker:
    """Turns saved models into blocks, following children by model id."""

    def __init__(self, models: Mapping[str, dict]) -> None:
        self.models = models

    def blocks(self, model_id: str) -> list[Block]:
        model = self.models.get(model_id.removeprefix(_MODEL_REF))
        if model is None:
            return [[("text", "(a widget closed before the notebook ended)", "")]]
        name, state = model.get("model_name", ""), model.get("state", {})
        for names, handler in self._handlers():
            if name in names:
                return handler(state)
        return self._other(state)

    def _handlers(self) -> list[tuple[set[str], Callable[[dict], list[Block]]]]:
        return [
            (_BOXES, self._box),
            ({"HTMLModel", "HTMLMathModel"}, self._html),
            ({"LabelModel"}, self._label),
            (_TEXT_INPUTS, self._text_input),
            ({"PasswordModel"}, self._password),
            ({"ButtonModel"}, self._button),
            (_COLLAPSIBLES, self._collapsible),
            ({"OutputModel"}, self._output),
        ]

    def _children(self, state: dict) -> list[list[Block]]:
        return [self.blocks(child) for child in state.get("children", [])]

    def _box(self, state: dict) -> list[Block]:
        return [block for child in self._children(state) for block in child]

    def _html(self, state: dict) -> list[Block]:
        return _paragraphs_of_html(state.get("value") or "")

    def _label(self, state: dict) -> list[Block]:
        text = _with_description(state, state.get("value") or "")
        return [[("text", text, "")]] if text.strip() else []

    def _text_input(self, state: dict) -> list[Block]:
        value = state.get("value") or ""
        if not value:
            return []
        label = state.get("description") or "Value"
        return [[("text", f"{label}: ", ""), ("code", value, "")]]

    def _password(self, state: dict) -> list[Block]:
        label = state.get("description") or "Password"
        return [[("text", f"{label}: (hidden)", "")]]

    def _button(self, state: dict) -> list[Block]:
        text = state.get("description") or state.get("tooltip") or "button"
        return [[("text", f"[{text}]", "")]]

    def _collapsible(self, state: dict) -> list[Block]:
        children = self._children(state)
        titles = list(state.get("titles") or [])
        selected = state.get("selected_index")
        sections = []
        for index, blocks in enumerate(children):
            title = titles[index] if index < len(titles) and titles[index] else ""
            sections.append(
                _Section(title or f"Part {index + 1}", index == selected, blocks)
            )
        return sections

    def _output(self, state: dict) -> list[Block]:
        blocks = []
        for output in state.get("outputs", []):
            data = output.get("data", {})
            text = output.get("text") or data.get("text/plain") or ""
            if isinstance(text, list):
                text = "".join(text)
            if text.strip():
                blocks.append([("code", text.rstrip("\n"), "")])
        return blocks

    def _other(self, state: dict) -> list[Block]:
        value = state.get("value")
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return [[("text", _with_description(state, str(value)), "")]]
        description = state.get("description")
        return [[("text", description, "")]] if description else []


def _with_description(state: dict, text: str) -> str:
    description = state.get("description")
    return f"{description}: {text}" if description else text


# Widget HTML ------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "tr"}
_SKIPPED_TAGS = {"script", "style", "head", "title"}


class _HtmlToBlocks(HTMLParser):
    """Keeps an HTML widget's words, links and code, in paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[list[Segment]] = [[]]
        self._link: str | None = None
        self._code = 0
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.paragraphs.append([])
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._link = href if href.startswith(("http://", "https://")) else None
        elif tag == "code":
            self._code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.paragraphs.append([])
        elif tag == "a":
            self._link = None
        elif tag == "code":
            self._code = max(0, self._code - 1)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        text = " ".join(data.split())
        if data[:1].isspace() and text:
            text = " " + text
        if data[-1:].isspace() and text:
            text += " "
        if not text:
            return
        kind = "link" if self._link else "code" if self._code else "text"
        self.paragraphs[-1].append((kind, text, self._link or ""))


def _paragraphs_of_html(value: str) -> list[Block]:
    parser = _HtmlToBlocks()
    parser.feed(value)
    parser.close()
    blocks = []
    for paragraph in parser.paragraphs:
        segments = [(k, t.strip() if k != "text" else t, h) for k, t, h in paragraph]
        if "".join(t for _, t, _ in segments).strip():
            blocks.append(_trim(segments))
    return blocks


def _trim(segments: list[Segment]) -> list[Segment]:
    """Drop the spaces a paragraph starts and ends with."""
    kind, text, href = segments[0]
    segments[0] = (kind, text.lstrip(), href)
    kind, text, href = segments[-1]
    segments[-1] = (kind, text.rstrip(), href)
    return segments


# Writing ----------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>])|(?<!\w)_|_(?!\w)")


def _escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def _code_span(text: str) -> str:
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _markdown_segment(kind: str, text: str, href: str) -> str:
    if kind == "code":
        if "\n" in text:
            return f"\n```\n{text}\n```\n"
        return _code_span(text)
    if kind == "link":
        target = href if re.fullmatch(r"[^\s()<>]+", href) else f"<{href}>"
        return f"[{_escape_markdown(text)}]({target})"
    return _escape_markdown(text)


def _markdown_block(block: Block) -> str:
    if isinstance(block, _Section):
        # A closed pane shows only its title, as it did in the notebook.
        heading = f"{'▾' if block.is_open else '▸'} *{_escape_markdown(block.title)}*"
        if not block.is_open:
            return heading
        return "\n\n".join([heading, *(_markdown_block(b) for b in block.blocks)])
    return "".join(_markdown_segment(*segment) for segment in block).strip()


def _html_segment(kind: str, text: str, href: str) -> str:
    if kind == "code":
        if "\n" in text:
            return f"<pre>{html.escape(text)}</pre>"
        return f"<code>{html.escape(text)}</code>"
    if kind == "link":
        return (
            f'<a href="{html.escape(href, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer">{html.escape(text)}</a>'
        )
    return html.escape(text)


def _html_block(block: Block) -> str:
    if isinstance(block, _Section):
        inner = "".join(_html_block(b) for b in block.blocks)
        opened = " open" if block.is_open else ""
        summary = f"<summary>{html.escape(block.title)}</summary>"
        return f"<details{opened}>{summary}{inner}</details>"
    return f"<p>{''.join(_html_segment(*segment) for segment in block)}</p>"
