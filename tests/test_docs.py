"""The docs build: every notebook run against the sandbox, then one page each.

Two Markdown builds run once per session, each with real-looking Smartcar
credentials and a unique fake secret planted in the environment; most tests
read the pages they wrote. Tests of failures build tiny notebooks made with
nbformat, which start a kernel but no server.
"""

from __future__ import annotations

import difflib
import html
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from smartcar_tutorial.docs import (
    DocsBuildError,
    SecretInPageError,
    build_docs,
    docs_environment,
)
from smartcar_tutorial.docs_cli import main_docs
from smartcar_tutorial.page_safety import find_token_values

pytestmark = pytest.mark.localserver

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
STEP_3 = next(p for p in NOTEBOOKS if p.name.startswith("03-"))
REAL_LOOKING_ID = "5f2b3c1e-8d4a-4f6b-9c7e-1a2b3c4d5e6f"


@dataclass
class Build:
    out: Path
    pages: list[Path]
    secret: str

    def texts(self) -> dict[str, str]:
        files = sorted(p for p in self.out.rglob("*") if p.is_file())
        return {p.relative_to(self.out).as_posix(): p.read_text() for p in files}


def build_with_planted_secret(out: Path, **options) -> Build:
    """Build with credentials in the environment that must not be used."""
    secret = f"planted-secret-{uuid.uuid4().hex}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMARTCAR_CLIENT_ID", REAL_LOOKING_ID)
        patch.setenv("SMARTCAR_CLIENT_SECRET", secret)
        patch.setenv("SMARTCAR_REDIRECT_URI", "https://app.example.com/callback")
        pages = build_docs(out, **options)
        assert os.environ["SMARTCAR_CLIENT_SECRET"] == secret, "env not restored"
    return Build(out, pages, secret)


@pytest.fixture(scope="session")
def build(tmp_path_factory) -> Build:
    return build_with_planted_secret(tmp_path_factory.mktemp("docs-first"))


@pytest.fixture(scope="session")
def second_build(tmp_path_factory, build) -> Build:
    return build_with_planted_secret(tmp_path_factory.mktemp("docs-second"))


def h1_of(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    source = next(c.source for c in nb.cells if c.cell_type == "markdown")
    return re.search(r"^# (.+)$", source, flags=re.MULTILINE).group(1)


def tiny_notebook(path: Path, *sources: str) -> Path:
    cells = [new_markdown_cell("# A tiny notebook")]
    cells += [new_code_cell(source) for source in sources]
    nbformat.write(new_notebook(cells=cells), path)
    return path


# Pages and index -----------------------------------------------------------


def test_build_docs_writes_a_page_for_every_notebook_then_the_index(build):
    expected = [f"{p.stem}.md" for p in NOTEBOOKS] + ["index.md"]
    assert [p.name for p in build.pages] == expected
    assert sorted(build.texts()) == sorted(expected)
    for notebook in NOTEBOOKS:
        page = build.texts()[f"{notebook.stem}.md"]
        assert page.startswith(f"# {h1_of(notebook)}\n")


def test_build_docs_index_links_the_steps_in_the_guides_order(build):
    index = build.texts()["index.md"]
    links = re.findall(r"^- \[(.+?)\]\((.+?)\)", index, flags=re.MULTILINE)
    assert links == [(h1_of(p), f"{p.stem}.md") for p in NOTEBOOKS]
    steps = [int(re.match(r"Step (\d+)", title).group(1)) for title, _ in links]
    assert steps == sorted(steps) and steps[:4] == [0, 1, 2, 3]


def test_build_docs_of_one_notebook_keeps_the_other_pages_in_the_index(build, tmp_path):
    out = tmp_path / "site"
    shutil.copytree(build.out, out)
    step_0 = NOTEBOOKS[0]

    build_docs(out, notebooks=[step_0])

    index = (out / "index.md").read_text()
    assert index == build.texts()["index.md"], "the index lost pages"
    alone = build_docs(tmp_path / "alone", notebooks=[step_0])
    links = re.findall(r"^- \[.+?\]\((.+?)\)", alone[-1].read_text(), re.MULTILINE)
    assert links == [f"{step_0.stem}.md"]


def test_build_docs_links_between_notebooks_point_at_pages(build):
    texts = build.texts()
    assert not any(".ipynb)" in text for text in texts.values())
    assert "[Step 1](01-redirect-to-smartcar.md)" in texts[f"{STEP_3.stem}.md"]


# Determinism ---------------------------------------------------------------


def test_build_docs_twice_gives_byte_identical_pages(build, second_build):
    first, second = build.texts(), second_build.texts()
    assert sorted(first) == sorted(second)
    differences = []
    for name in sorted(first):
        diff = difflib.unified_diff(
            first[name].splitlines(), second[name].splitlines(), name, name, n=0
        )
        differences += [line for line in diff if line[:1] in "+-"]
    assert differences == [], "pages differ between builds:\n" + "\n".join(differences)


def test_build_docs_pages_carry_nothing_from_the_run_or_the_machine(build):
    patterns = {
        "a temporary path": re.escape(tempfile.gettempdir() + os.sep),
        "the repository's path": re.escape(str(ROOT)),
        "the home folder": re.escape(str(Path.home()) + os.sep),
        "a kernel file": r"ipykernel_\d+|kernel-[0-9a-f-]{36}",
        "an execution count": r"\bIn \[\d*\]|\bOut\[\d+\]",
        "a timestamp": r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d",
        "papermill metadata": r"papermill",
        "a random port": r"localhost:(?!8080\b|8081\b)\d+",
    }
    for name, text in build.texts().items():
        for what, pattern in patterns.items():
            assert not re.search(pattern, text), f"{name} shows {what}"


# Secrets -------------------------------------------------------------------


def test_build_docs_planted_secret_appears_in_no_page(build, second_build):
    for done in (build, second_build):
        files = [p for p in done.out.rglob("*") if p.is_file()]
        assert files
        for path in files:
            content = path.read_bytes()
            assert done.secret.encode() not in content, path.name
            assert REAL_LOOKING_ID.encode() not in content, path.name
    assert "sandbox-demo-client" in build.texts()[f"{STEP_3.stem}.md"]


def test_build_docs_pages_show_no_whole_token(build):
    for name, text in build.texts().items():
        assert find_token_values(text) == set(), name


def test_build_docs_refuses_a_page_that_would_show_a_secret(tmp_path, monkeypatch):
    secret = f"planted-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", secret)
    notebook = tiny_notebook(tmp_path / "leaky.ipynb", f"print({secret!r})")
    out = tmp_path / "out"

    with pytest.raises(SecretInPageError) as info:
        build_docs(out, notebooks=[notebook])

    assert "leaky.md" in str(info.value) and "SMARTCAR_CLIENT_SECRET" in str(info.value)
    assert secret not in str(info.value)
    assert not out.exists(), "no page may be written when one leaks"


def test_build_docs_redacts_tokens_that_a_notebook_prints(tmp_path):
    access, refresh = f"at-{uuid.uuid4()}", f"rt-{uuid.uuid4()}"
    notebook = tiny_notebook(
        tmp_path / "tokens.ipynb",
        f"{{'access_token': {access!r}, 'refresh_token': {refresh!r}}}",
        f"print('Authorization: Bearer {access}')",
        f"{access!r}, {refresh!r}",
    )
    (page, _index) = build_docs(tmp_path / "out", notebooks=[notebook])

    text = page.read_text()
    assert access not in text and refresh not in text
    assert text.count("[redacted]") >= 5


# Tags and widgets ----------------------------------------------------------


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_build_docs_shows_the_learners_settings_not_the_runs(build, notebook):
    page = build.texts()[f"{notebook.stem}.md"]
    assert "# Parameters" not in page, "papermill's injected cell is shown"
    assert 'autopilot = "approve"' not in page
    if "autopilot" in page:
        assert "autopilot = None" in page, "the page uses a setting it never shows"


def test_build_docs_leaves_tagged_cells_out(tmp_path):
    notebook = tiny_notebook(
        tmp_path / "tagged.ipynb",
        "shown = 'visible-cell'\nshown",
        "'removed-cell'",
        "'removed-input' + '-output-kept'",
        "print('hidden-input' + '-output-kept')",
        "'removed' + '-output'",
        "'hidden' + '-output'",
    )
    nb = nbformat.read(notebook, as_version=4)
    tags = [None, "remove-cell", "remove-input", "hide-input", "remove-output"]
    tags.append("hide-output")
    for cell, tag in zip(nb.cells[1:], tags, strict=True):
        if tag:
            cell.metadata["tags"] = [tag]
    nbformat.write(nb, notebook)

    page = build_docs(tmp_path / "out", notebooks=[notebook])[0].read_text()

    assert "visible-cell" in page
    assert "removed-cell" not in page
    assert "'removed-input'" not in page and "removed-input-output-kept" in page
    assert "print('hidden-input'" not in page and "hidden-input-output-kept" in page
    assert "'removed' + '-output'" in page and "removed-output" not in page
    assert "'hidden' + '-output'" in page and "hidden-output" not in page


def widget_calls(notebook: Path, name: str) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(c.source.count(f"{name}(") for c in nb.cells if c.cell_type == "code")


def test_build_docs_turns_every_widget_into_readable_text(build):
    texts = build.texts()
    for name, text in texts.items():
        # A widget's text/plain stand-in reads "FlowWidget(children=(HTML(value=…".
        for leftover in ("IPY_MODEL_", "widget-view", "(children=", "(value="):
            assert leftover not in text, f"{name} still holds {leftover!r}"

    link = "> [Open Smartcar Connect](http://localhost:8081/oauth/authorize?"
    for notebook in NOTEBOOKS:
        page = texts[f"{notebook.stem}.md"]
        flows = widget_calls(notebook, "FlowWidget")
        links = flows + widget_calls(notebook, "link_button")
        assert page.count(link) == links, notebook.stem
        assert page.count("\n> Code received.\n") == flows, notebook.stem
        codes = re.findall(r"^> Code: `[0-9a-f-]{36}`$", page, flags=re.MULTILINE)
        assert len(codes) == flows, notebook.stem
        assert page.count("> Connect sent an authorization code") == flows
    assert sum(widget_calls(p, "FlowWidget") for p in NOTEBOOKS) >= 2


def test_build_docs_html_draws_widgets_as_text_without_prompts(tmp_path):
    pages = build_docs(tmp_path, fmt="html", notebooks=[STEP_3])

    assert [p.name for p in pages] == [f"{STEP_3.stem}.html", "index.html"]
    page = pages[0].read_text()
    assert '<blockquote><p><a href="http://localhost:8081/oauth/authorize?' in page
    assert "<p>Code received.</p>" in page
    assert re.search(r"<p>Code: <code>[0-9a-f-]{36}</code></p>", page)
    assert "application/vnd.jupyter.widget" not in page
    assert not re.search(r"In&nbsp;\[|Out\[\d", page)
    title = html.escape(h1_of(STEP_3))
    assert f'<a href="{STEP_3.stem}.html">{title}</a>' in pages[1].read_text()


# Failures and the command line ---------------------------------------------


def test_build_docs_names_the_notebook_and_the_cell_that_raised(tmp_path):
    notebook = tiny_notebook(
        tmp_path / "broken.ipynb", "x = 1", "raise ValueError('boom in cell two')"
    )
    out = tmp_path / "out"

    with pytest.raises(DocsBuildError) as info:
        build_docs(out, notebooks=[notebook])

    message = str(info.value)
    assert "broken.ipynb" in message
    assert "cell 2" in message  # index 2: the title cell, then two code cells
    assert "raise ValueError" in message and "boom in cell two" in message
    assert not out.exists()


def test_main_docs_exits_1_and_names_the_notebook_and_cell(tmp_path, capsys):
    notebook = tiny_notebook(tmp_path / "broken.ipynb", "1 / 0")

    status = main_docs([str(notebook), "--out", str(tmp_path / "out")])

    assert status == 1
    error = capsys.readouterr().err
    assert "broken.ipynb" in error and "cell 1" in error
    assert "ZeroDivisionError" in error


def test_main_docs_refuses_credentials_as_parameters(tmp_path, capsys):
    status = main_docs(["--out", str(tmp_path), "-p", "client_id", "mine"])

    assert status == 4
    assert "sandbox" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_docs_environment_hides_smartcar_settings_and_restores_them(monkeypatch):
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", "planted-secret-env")
    monkeypatch.setenv("SMARTCAR_API_ORIGIN", "https://api.example.com")
    monkeypatch.delenv("SMARTCAR_TUTORIAL_DEMO_SEED", raising=False)

    with docs_environment():
        assert "SMARTCAR_CLIENT_SECRET" not in os.environ
        assert "SMARTCAR_API_ORIGIN" not in os.environ
        assert os.environ["SMARTCAR_TUTORIAL_AUTOPILOT"] == "approve"
        assert os.environ["SMARTCAR_TUTORIAL_DEMO_SEED"]

    assert os.environ["SMARTCAR_CLIENT_SECRET"] == "planted-secret-env"
    assert "SMARTCAR_TUTORIAL_DEMO_SEED" not in os.environ
