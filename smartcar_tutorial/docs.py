"""Build the tutorial's pages: run every notebook, then convert it.

:func:`build_docs` runs each notebook unattended against the sandbox with
papermill, in reading order, converts it with nbconvert to Markdown (or
HTML), and writes an index page. Plumbing cells are left out by their tags,
each widget becomes text saying what the learner saw, and the pages are the
same byte for byte from one build to the next. A client secret, access
token or refresh token never reaches a page.

    build_docs("build/docs")                         # every notebook, Markdown
    build_docs("build/docs", fmt="html",
               notebooks=["notebooks/03-handle-the-response.ipynb"])

From the command line: ``python -m smartcar_tutorial docs --out build/docs``
(see :mod:`~smartcar_tutorial.docs_cli`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import page_safety
from .errors import ConfigurationError, TutorialError
from .ports import describe_port_holder
from .randomness import SEED_VARIABLE
from .sandbox import DEMO_REDIRECT_URI
from .steps import AUTOPILOT_VARIABLE, SANDBOX_PORT

logger = logging.getLogger(__name__)

# papermill, nbformat and nbconvert load on first use, so that the command
# line parses its arguments (and answers --help) without them.

SUFFIXES = {"markdown": ".md", "html": ".html"}
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
DEFAULT_OUT = Path("build/docs")
KERNEL_NAME = "python3"
CELL_TIMEOUT = 120  # seconds; the autopilot answers in well under one
#: Settings each notebook gets through its ``parameters`` cell, if declared.
DOCS_PARAMETERS = {"autopilot": "approve", "timeout": 60}
DEMO_SEED = "smartcar-tutorial-docs"
#: Parameters a docs build refuses: its pages always come from the sandbox.
SANDBOX_ONLY_PARAMETERS = ("client_id", "client_secret")
FIXED_PORTS = (urlsplit(DEMO_REDIRECT_URI).port, SANDBOX_PORT)


class DocsBuildError(TutorialError):
    """Raised when a docs build stops: a notebook failed or a page is unsafe."""


class SecretInPageError(DocsBuildError):
    """Raised when a configured secret would appear in a page."""


def build_docs(
    out_dir: str | os.PathLike,
    fmt: str = "markdown",
    notebooks: Sequence[str | os.PathLike] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Run the notebooks against the sandbox and write one page for each.

    Args:
        out_dir: Folder for the pages; created if missing. Pages of an
            earlier build are overwritten, other files are left alone.
        fmt: ``"markdown"`` or ``"html"``.
        notebooks: Notebooks to build, in order; by default every
            ``NN-*.ipynb`` in the tutorial's ``notebooks/`` folder.
        parameters: Papermill parameters that override
            :data:`DOCS_PARAMETERS`; each notebook gets those its
            ``parameters`` cell declares.

    Returns:
        The pages in reading order, then the index page.

    Raises:
        DocsBuildError: A notebook raised (the message names it and the
            cell), a port the notebooks use is busy, or a page would show a
            configured secret. Nothing is written to ``out_dir`` then.
        ConfigurationError: ``fmt`` is unknown or a notebook is missing.
    """
    if fmt not in SUFFIXES:
        raise ConfigurationError(
            f"fmt={fmt!r} is not a page format. Use one of {tuple(SUFFIXES)}."
        )
    refused = sorted(set(parameters or {}) & set(SANDBOX_ONLY_PARAMETERS))
    if refused:
        raise ConfigurationError(
            f"A docs build does not take {refused[0]!r}: its pages always come "
            "from the sandbox, so no credentials are needed. Leave it out."
        )
    paths = find_notebooks(notebooks)
    secrets = page_safety.configured_secrets(os.environ)
    with tempfile.TemporaryDirectory(prefix="smartcar-docs-") as tmp:
        work = Path(tmp)
        executed = execute_notebooks(paths, work / "executed", parameters)
        built_before = _pages_built_before(Path(out_dir), paths, fmt)
        staged = write_pages(paths, executed, work, fmt, built_before)
        _check_secrets(work / "pages", secrets)
        written = []
        for page in staged:
            target = Path(out_dir) / page.relative_to(work / "pages")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, target)
            written.append(target)
    logger.info("Wrote %d pages to %s", len(written), out_dir)
    return [p for p in written if p.suffix == SUFFIXES[fmt]]


def _pages_built_before(out: Path, building: Sequence[Path], fmt: str) -> list[Path]:
    """The tutorial's other notebooks whose pages ``out`` already holds.

    A build of one notebook keeps them in the index instead of dropping them.
    """
    names = {path.name for path in building}
    return [
        path
        for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
        if path.name not in names and (out / f"{path.stem}{SUFFIXES[fmt]}").is_file()
    ]


def find_notebooks(notebooks: Sequence[str | os.PathLike] | None = None) -> list[Path]:
    """Return the notebooks to build, checked; by default the tutorial's own."""
    if notebooks is None:
        paths = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
        if not paths:
            raise ConfigurationError(
                f"No notebooks found in {str(NOTEBOOKS_DIR)!r}. Run the build "
                "from a clone of the repository, or name the notebooks."
            )
        return paths
    paths = [Path(n).resolve() for n in notebooks]
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise ConfigurationError(
                f"{str(path)!r} is not a notebook file. Name .ipynb files, "
                "such as notebooks/03-handle-the-response.ipynb."
            )
    return paths


@contextlib.contextmanager
def docs_environment() -> Iterator[None]:
    """Set the kernels' environment for a docs build, and restore it after.

    The simulated owner approves, random values come from a fixed seed, and
    no ``SMARTCAR_*`` setting (credentials, origins) is passed on: docs
    builds always use the sandbox.
    """
    changes: dict[str, str | None] = {
        name: None
        for name in os.environ
        if name.startswith("SMARTCAR_") and not name.startswith("SMARTCAR_TUTORIAL_")
    }
    changes |= {AUTOPILOT_VARIABLE: "approve", SEED_VARIABLE: DEMO_SEED}
    changes["PYTHONHASHSEED"] = "0"
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            _set_variable(name, value)
        yield
    finally:
        for name, value in saved.items():
            _set_variable(name, value)


def _set_variable(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def execute_notebooks(
    paths: Sequence[Path],
    out_dir: Path,
    parameters: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Run each notebook in order with papermill; return the executed copies.

    Each runs in a fresh kernel, in its own folder, in the docs
    environment (:func:`docs_environment`).

    Raises:
        DocsBuildError: A notebook raised (the message names it and the
            cell), or a port the notebooks use is busy.
    """
    try:
        import papermill
    except ImportError as exc:
        raise ConfigurationError(
            "A docs build runs the notebooks with papermill, which is not "
            "installed. Install the test extra: pip install -e '.[test]'."
        ) from exc

    out_dir.mkdir(parents=True, exist_ok=True)
    settings = {**DOCS_PARAMETERS, **(parameters or {})}
    executed = []
    with docs_environment():
        for path in paths:
            declared = papermill.inspect_notebook(str(path))
            wanted = {k: v for k, v in settings.items() if k in declared}
            logger.info("Running %s with %s", path.name, wanted)
            _check_ports_free()
            target = out_dir / path.name
            try:
                papermill.execute_notebook(
                    str(path),
                    str(target),
                    parameters=wanted,
                    kernel_name=KERNEL_NAME,
                    cwd=str(path.parent),
                    progress_bar=False,
                    request_save_on_cell_execute=False,
                    execution_timeout=CELL_TIMEOUT,
                    # The kernel's own start-up warnings (ipykernel 7 warns of
                    # plain TCP on loopback) are not the build's news; what a
                    # cell writes still reaches its page.
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                )
            except papermill.PapermillExecutionError as exc:
                raise DocsBuildError(_describe_failure(path, exc)) from exc
            except Exception as exc:  # a dead kernel or a timeout, from nbclient
                raise DocsBuildError(
                    f"{path.name} could not be run: {type(exc).__name__}: {exc}. "
                    "Run it in JupyterLab to see why; no page was written."
                ) from exc
            executed.append(target)
    return executed


def _describe_failure(path: Path, exc: Any) -> str:
    """Name the notebook and the cell (index and id in the source) that raised.

    ``exc`` is papermill's ``PapermillExecutionError``.
    """
    import nbformat

    source = nbformat.read(path, as_version=4)
    matches = [i for i, c in enumerate(source.cells) if c.source == exc.source]
    if matches:
        index = min(matches, key=lambda i: abs(i - exc.cell_index))
        cell_id = source.cells[index].get("id")
        where = f"cell {index} (id {cell_id!r}, In [{exc.exec_count}])"
    else:
        where = f"cell In [{exc.exec_count}]"
    first_line = exc.source.strip().splitlines()[0] if exc.source.strip() else ""
    return (
        f"{path.name} failed at {where}, which starts {first_line!r}: "
        f"{exc.ename}: {exc.evalue} Run the notebook in JupyterLab to see the "
        "whole traceback; no page was written."
    )


# Conversion -------------------------------------------------------------


def write_pages(
    sources: Sequence[Path],
    executed: Sequence[Path],
    work: Path,
    fmt: str,
    built_before: Sequence[Path] = (),
) -> list[Path]:
    """Convert executed notebooks; write their pages and the index.

    Args:
        sources: The notebooks as written, in order (for links and paths).
        executed: Their executed copies, from :func:`execute_notebooks`.
        work: The build's folder; pages go to its ``pages`` subfolder, and
            its path is taken out of them.
        fmt: ``"markdown"`` or ``"html"``.
        built_before: Notebooks whose pages an earlier build wrote; the
            index lists them too, every entry in the notebooks' name order.

    Returns:
        Every file written: pages, extracted images, then the index.

    Raises:
        DocsBuildError: An output shows a port that moved or changed hands.
    """
    import nbformat

    from . import docs_pages

    pages = work / "pages"
    pages.mkdir(parents=True)
    exporter = docs_pages.make_exporter(fmt)
    siblings = {p.name for s in sources for p in s.parent.glob("*.ipynb")}
    folders = {source.parent: "notebooks" for source in sources}
    folders[work] = "<build>"
    notebooks = [nbformat.read(path, as_version=4) for path in executed]

    tokens: set[str] = set()
    for path, nb in zip(executed, notebooks, strict=True):
        shown = docs_pages.output_text(nb)
        tokens |= page_safety.find_token_values(shown)
        _check_ports(path.name, shown)

    staged, entries = [], []
    for path, nb in zip(executed, notebooks, strict=True):
        title, purpose = docs_pages.title_and_purpose(nb, path.stem)
        docs_pages.prepare_notebook(nb, path.name, fmt, siblings, SUFFIXES[fmt])
        resources = {"unique_key": path.stem, "output_files_dir": f"{path.stem}_files"}
        resources["metadata"] = {"name": title}
        body, produced = exporter.from_notebook_node(nb, resources=resources)
        body = page_safety.redact(body, tokens)
        body = page_safety.scrub_machine_paths(body, folders)
        page = pages / f"{path.stem}{SUFFIXES[fmt]}"
        page.write_text(docs_pages.tidy_page(body, fmt), encoding="utf-8")
        staged.append(page)
        for name, data in sorted(produced.get("outputs", {}).items()):
            (pages / name).parent.mkdir(parents=True, exist_ok=True)
            (pages / name).write_bytes(data)
            staged.append(pages / name)
        entries.append((page.name, title, purpose))
    if built_before:
        for path in built_before:
            nb = nbformat.read(path, as_version=4)
            title, purpose = docs_pages.title_and_purpose(nb, path.stem)
            entries.append((f"{path.stem}{SUFFIXES[fmt]}", title, purpose))
        entries.sort()

    index = pages / f"index{SUFFIXES[fmt]}"
    index.write_text(docs_pages.index_page(entries, fmt), encoding="utf-8")
    return [*staged, index]


_PORT_ADVICE = (
    "Stop what holds it (another notebook's kernel, `serve`, a test run) and "
    "build again; no page was written."
)


def _check_ports_free() -> None:
    """Fail before a notebook runs when a port the notebooks use is taken.

    A docs build needs both ports to itself: a server of another run would
    answer its notebooks, or take a port over mid-flow.
    """
    for port in FIXED_PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            busy = probe.connect_ex(("127.0.0.1", port)) == 0
        if busy:
            holder = describe_port_holder(port) or "another program"
            raise DocsBuildError(
                f"Port {port} is held by {holder}, and the notebooks need it "
                f"for a repeatable build. {_PORT_ADVICE}"
            )


def _check_ports(name: str, shown: str) -> None:
    """Fail when a page would show that a server moved or changed hands."""
    ports = page_safety.unexpected_ports(shown, FIXED_PORTS)
    if ports:
        raise DocsBuildError(
            f"{name} shows port {ports[0]}, not {FIXED_PORTS[0]} or "
            f"{FIXED_PORTS[1]}: a port was busy, so a server moved to a random "
            f"one and the page would change from build to build. {_PORT_ADVICE}"
        )
    if page_safety.shows_port_takeover(shown):
        raise DocsBuildError(
            f"{name} shows a port taken over from, or by, another process "
            "during the build: something else ran the tutorial's servers at "
            f"the same time, and its answers may be in the page. {_PORT_ADVICE}"
        )


def _check_secrets(pages: Path, secrets: Mapping[str, str]) -> None:
    for path in sorted(p for p in pages.rglob("*") if p.is_file()):
        leaked = page_safety.leaked_secrets(path.read_bytes(), secrets)
        if leaked:
            raise SecretInPageError(
                f"The page {path.name} would show the value of {leaked[0]}, so "
                "no page was written. Find which output prints it and stop "
                "printing it; docs builds must not need real credentials."
            )
