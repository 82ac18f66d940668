"""Turn an executed notebook into a page, and the pages into an index.

The docs build (:mod:`smartcar_tutorial.docs`) runs the notebooks; this
module only converts. Cells are left out by their tags, never by hand:

* ``remove-cell`` and papermill's ``injected-parameters``: the whole cell;
* ``remove-input`` / ``hide-input``: the code, keeping the output;
* ``remove-output`` / ``hide-output``: the output, keeping the code.

    nb = nbformat.read("executed/03-handle-the-response.ipynb", as_version=4)
    title, purpose = title_and_purpose(nb, "03-handle-the-response")
    prepare_notebook(nb, "03-handle-the-response.ipynb", "markdown", siblings, ".md")
    body, resources = make_exporter("markdown").from_notebook_node(nb)
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbconvert.exporters import HTMLExporter, MarkdownExporter, TemplateExporter
from nbconvert.filters import markdown2html
from traitlets.config import Config

from . import page_safety
from .widget_text import replace_widget_views

logger = logging.getLogger(__name__)

REMOVE_CELL_TAGS = ("remove-cell", "injected-parameters")
REMOVE_INPUT_TAGS = ("remove-input", "hide-input")
REMOVE_OUTPUT_TAGS = ("remove-output", "hide-output")
# A Markdown page reads best with the notebook's own Markdown; HTML pages
# keep nbconvert's order, which puts HTML first.
_MARKDOWN_PRIORITY = ["text/markdown", "text/html", "image/svg+xml", "image/png"]
_MARKDOWN_PRIORITY += ["image/jpeg", "text/latex", "text/plain"]


def make_exporter(fmt: str) -> TemplateExporter:
    """Return an nbconvert exporter that drops tagged cells and prompts."""
    config = Config()
    tags = config.TagRemovePreprocessor
    tags.enabled = True
    tags.remove_cell_tags = set(REMOVE_CELL_TAGS)
    tags.remove_input_tags = set(REMOVE_INPUT_TAGS)
    tags.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    if fmt == "html":
        return HTMLExporter(config=config, template_name="lab")
    config.NbConvertBase.display_data_priority = _MARKDOWN_PRIORITY
    return MarkdownExporter(config=config)


def prepare_notebook(
    nb: Any, name: str, fmt: str, siblings: set[str], suffix: str
) -> None:
    """Make an executed notebook fit for a page, in place.

    Widgets become text; run-specific metadata, execution counts, stderr and
    tracebacks go; links to sibling notebooks point at their pages.

    Args:
        nb: The executed notebook.
        name: Its file name, for log messages.
        fmt: ``"markdown"`` or ``"html"``.
        siblings: File names of the notebooks that get pages.
        suffix: The pages' file suffix, such as ``".md"``.
    """
    replace_widget_views(nb, fmt)
    kept = {
        k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")
    }
    kept.get("language_info", {}).pop("version", None)
    nb.metadata = kept
    for cell in nb.cells:
        cell.metadata = {"tags": cell.metadata.get("tags", [])}
        if cell.cell_type == "markdown":
            cell.source = link_pages(cell.source, siblings, suffix)
        if cell.cell_type == "code":
            cell.execution_count = None
            where = f"{name} cell {cell.get('id')!r}"
            outputs = [_page_output(o, where) for o in cell.outputs]
            cell.outputs = [o for o in outputs if o is not None]


def _page_output(output: Any, where: str) -> Any:
    if output.output_type == "stream" and output.name == "stderr":
        # Warnings and logs carry machine paths and timings: log, don't publish.
        logger.warning("%s wrote to stderr: %s", where, output.text)
        return None
    if output.output_type == "error":
        # A raises-exception cell: the error's name and message, no frames.
        output.traceback = [f"{output.ename}: {output.evalue}"]
    if "execution_count" in output:
        output.execution_count = None
    _scrub_times(output, where)
    return output


def _scrub_times(output: Any, where: str) -> None:
    """Replace the run's clock in an output; the page must not depend on it."""
    fields = [("text", output)] if isinstance(output.get("text"), str) else []
    data = output.get("data", {})
    fields += [(mime, data) for mime, value in data.items() if isinstance(value, str)]
    for key, holder in fields:
        holder[key], count = page_safety.scrub_timestamps(holder[key])
        if count:  # expected of a token's expiry; a note for whoever debugs
            logger.info(
                "%s shows the time of the run; the page shows %r instead",
                where,
                page_safety.TIMESTAMP_PLACEHOLDER,
            )


_NOTEBOOK_LINK = re.compile(r"\]\((?:\./)?([\w.-]+\.ipynb)(#[^)\s]*)?\)")


def link_pages(source: str, siblings: set[str], suffix: str) -> str:
    """Point Markdown links to sibling notebooks at their pages.

    >>> link_pages("[Step 1](01-x.ipynb)", {"01-x.ipynb"}, ".md")
    '[Step 1](01-x.md)'
    """

    def page(match: re.Match) -> str:
        name, anchor = match.group(1), match.group(2) or ""
        if name not in siblings:
            return match.group(0)
        return f"]({Path(name).stem}{suffix}{anchor})"

    return _NOTEBOOK_LINK.sub(page, source)


def output_text(nb: Any) -> str:
    """Return all the text a notebook's outputs and widgets show."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts += [str(value) for value in output.get("data", {}).values()]
            parts.append(str(output.get("evalue", "")))
    parts.append(str(nb.metadata.get("widgets", "")))
    return "\n".join(parts)


def title_and_purpose(nb: Any, fallback: str) -> tuple[str, str]:
    """Return the notebook's H1 and the paragraph after it."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        match = re.search(r"^# +(.+?)\s*$", cell.source, flags=re.MULTILINE)
        if match:
            rest = cell.source[match.end() :].strip().split("\n\n")[0]
            return match.group(1), " ".join(rest.split())
    return fallback, ""


def tidy_page(body: str, fmt: str) -> str:
    """Drop the runs of blank lines nbconvert leaves between cells.

    Code blocks keep theirs. The page ends with exactly one newline.
    """
    if fmt == "html":
        return body.strip() + "\n"
    lines, fenced, blank = [], False, 0
    for line in body.strip().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        blank = blank + 1 if not line.strip() and not fenced else 0
        if blank <= 1:
            lines.append(line if fenced else line.rstrip())
    return "\n".join(lines) + "\n"


INDEX_TITLE = "Smartcar's authorization flow, step by step"
INDEX_INTRO = (
    "Each page is one notebook of the tutorial, run against the offline "
    "sandbox, with a simulated owner who presses Allow."
)


def index_page(entries: Sequence[tuple[str, str, str]], fmt: str) -> str:
    """Return the index page: each entry is (page file, title, purpose)."""
    if fmt == "markdown":
        items = [f"- [{t}]({p})" + (f": {d}" if d else "") for p, t, d in entries]
        return "\n".join([f"# {INDEX_TITLE}", "", INDEX_INTRO, "", *items]) + "\n"
    items = []
    for page, title, purpose in entries:
        link = f'<a href="{_escape(page)}">{_escape(title)}</a>'
        text = _inline_html(purpose)
        items.append(f"<li>{link}{': ' + text if text else ''}</li>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_escape(INDEX_TITLE)}</title>\n</head>\n<body>\n"
        f"<h1>{_escape(INDEX_TITLE)}</h1>\n<p>{_escape(INDEX_INTRO)}</p>\n"
        "<ul>\n" + "\n".join(items) + "\n</ul>\n</body>\n</html>\n"
    )


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _inline_html(markdown: str) -> str:
    rendered = markdown2html(markdown).strip()
    return re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.DOTALL)
