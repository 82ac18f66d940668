"""How long a docs build takes, against only running the same notebooks.

Figures are medians of a few repeats (at most ``MAX_REPEATS``):

1. **execute only**: the notebooks run with papermill, in order, with the
   docs build's parameters and environment, and nothing else;
2. **docs build**: :func:`smartcar_tutorial.docs.build_docs`, which runs
   them the same way, then renders widgets, converts with nbconvert, checks
   every page and writes the index.

Execution times vary by a second or more from run to run, more than
conversion costs, so a third row times **convert only**: ``write_pages`` on
the notebooks that run just executed. The runs alternate, so slow drift on
the machine hits all of them alike.

    python benchmarks/docs_build.py
    python benchmarks/docs_build.py --repeats 5 --format html --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from smartcar_tutorial.docs import (
    SUFFIXES,
    DocsBuildError,
    build_docs,
    execute_notebooks,
    find_notebooks,
    write_pages,
)

MAX_REPEATS = 10


def time_once(run: Callable[[Path], object]) -> float:
    """Run ``run`` in a fresh temporary folder; return the seconds it took."""
    with tempfile.TemporaryDirectory(prefix="docs-bench-") as folder:
        start = time.perf_counter()
        run(Path(folder))
        return time.perf_counter() - start


def summary(samples: list[float]) -> dict[str, object]:
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "samples_s": samples,
    }


def measure(notebooks: list[Path], fmt: str, repeats: int) -> dict[str, object]:
    executions, conversions, builds = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="docs-bench-") as folder:
            work = Path(folder)
            start = time.perf_counter()
            executed = execute_notebooks(notebooks, work / "executed")
            executions.append(time.perf_counter() - start)
            start = time.perf_counter()
            write_pages(notebooks, executed, work, fmt)
            conversions.append(time.perf_counter() - start)
        builds.append(
            time_once(lambda out: build_docs(out, fmt=fmt, notebooks=notebooks))
        )
    execute, build = summary(executions), summary(builds)
    return {
        "notebooks": [p.name for p in notebooks],
        "format": fmt,
        "repeats": repeats,
        "execute_only": execute,
        "convert_only": summary(conversions),
        "docs_build": build,
        "overhead_s": build["median_s"] - execute["median_s"],
        "ratio": build["median_s"] / execute["median_s"],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            name: metadata.version(name) for name in ("papermill", "nbconvert")
        },
    }


def print_table(result: dict) -> None:
    print(
        f"{len(result['notebooks'])} notebooks, {result['format']}, "
        f"{result['repeats']} repeats (Python {result['python']})"
    )
    print(f"{'run':<16} {'median s':>9} {'min s':>8} {'max s':>8}")
    rows = (
        ("execute only", "execute_only"),
        ("convert only", "convert_only"),
        ("docs build", "docs_build"),
    )
    for label, key in rows:
        row = result[key]
        print(
            f"{label:<16} {row['median_s']:>9.2f} {row['min_s']:>8.2f} "
            f"{row['max_s']:>8.2f}"
        )
    print(
        f"docs build - execute only = {result['overhead_s']:.2f} s "
        f"(docs build = {result['ratio']:.2f} x execute only)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all")
    parser.add_argument("--repeats", type=int, default=3, help="default: 3")
    parser.add_argument(
        "--format", dest="fmt", choices=tuple(SUFFIXES), default="markdown"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= MAX_REPEATS:
        parser.error(f"--repeats must be from 1 to {MAX_REPEATS}")

    notebooks = find_notebooks(args.notebooks or None)
    try:
        result = measure(notebooks, args.fmt, args.repeats)
    except DocsBuildError as exc:  # a busy port, usually: say so and stop
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
