"""The ``docs`` command: build the tutorial's pages from a shell.

    python -m smartcar_tutorial docs                       # Markdown, build/docs/
    python -m smartcar_tutorial docs --format html --out site/
    python -m smartcar_tutorial docs notebooks/03-*.ipynb -p timeout 30

The work is :func:`smartcar_tutorial.docs.build_docs`; this module reads the
arguments, passes ``-p`` values the way papermill's own ``-p`` does, and
turns failures into one line on stderr and an exit status.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .docs import DEFAULT_OUT, SUFFIXES, DocsBuildError, build_docs
from .errors import TutorialError

EXIT_BUILT, EXIT_FAILED, EXIT_CONFIG = 0, 1, 4


def add_docs_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``docs`` command's arguments to ``parser`` and return it."""
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="notebooks to build, in order (default: every notebook of the tutorial)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for the pages (default: %(default)s)",
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=tuple(SUFFIXES),
        default="markdown",
        help="page format (default: %(default)s)",
    )
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a papermill parameter for the notebooks that declare it "
        "(default: autopilot approve, timeout 60)",
    )
    return parser


def run_docs(args: argparse.Namespace) -> int:
    """Build the pages for parsed ``docs`` arguments; return the exit status."""
    parameters = {name: _parameter_value(value) for name, value in args.parameter}
    try:
        pages = build_docs(args.out, args.fmt, args.notebooks or None, parameters)
    except DocsBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except TutorialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    for page in pages:
        print(page)
    return EXIT_BUILT


def _parameter_value(text: str) -> Any:
    """Read a ``-p`` value the way papermill's own ``-p`` does."""
    constants = {"True": True, "False": False, "None": None}
    if text in constants:
        return constants[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main_docs(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m smartcar_tutorial docs``; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m smartcar_tutorial docs",
        description="Run every notebook against the sandbox and write its page.",
    )
    args = add_docs_arguments(parser).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    return run_docs(args)


if __name__ == "__main__":
    sys.exit(main_docs())
