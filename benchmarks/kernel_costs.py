"""What the tutorial costs a kernel: import time, execution, memory.

Each figure is measured next to its floor in the same run, so the ratio
holds across machines even where the absolute numbers do not:

1. import: ``import smartcar_tutorial`` (and with its widgets and servers
   loaded) against ``import ipywidgets`` alone, in fresh interpreters;
2. notebooks: executing every tutorial notebook unattended against as many
   one-cell notebooks through the same executor (kernel start-up is the
   floor), and against notebooks of as many ``1 + 1`` cells (papermill's
   own cost per cell is then in the floor too);
3. memory: resident memory of a kernel after Step 3 against a bare kernel.

    python benchmarks/kernel_costs.py --repeats 5 --json costs.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
import psutil
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
UNATTENDED = {"SMARTCAR_TUTORIAL_AUTOPILOT": "approve"}
# Keeps ipykernel's start-up warnings out of the table; both sides alike.
QUIET_KERNEL = ["--IPKernelApp.log_level=ERROR"]


def time_import(statement: str, repeats: int) -> list[float]:
    """Seconds to run ``statement`` in a fresh interpreter, after start-up."""
    probe = (
        "import time; t = time.perf_counter(); "
        f"{statement}; print(time.perf_counter() - t)"
    )
    return [
        float(subprocess.check_output([sys.executable, "-c", probe], timeout=60))
        for _ in range(repeats)
    ]


def _execute(path: Path, workdir: Path) -> float:
    """Seconds papermill takes to run ``path`` in a fresh kernel."""
    started = time.perf_counter()
    papermill.execute_notebook(
        str(path),
        str(workdir / f"out-{path.name}"),
        kernel_name="python3",
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        execution_timeout=120,
        extra_arguments=QUIET_KERNEL,
    )
    return time.perf_counter() - started


def _trivial_twin(path: Path, folder: Path, same_cells: bool) -> Path:
    """A notebook of ``1 + 1`` cells: one, or one per code cell of ``path``."""
    source = nbformat.read(path, 4)
    count = sum(c.cell_type == "code" for c in source.cells) if same_cells else 1
    cells = [nbformat.v4.new_code_cell("1 + 1") for _ in range(count)]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    twin = folder / f"{'cells' if same_cells else 'one'}-{path.name}"
    nbformat.write(nb, twin)
    return twin


def time_notebooks(repeats: int) -> dict[str, float]:
    """Seconds to execute the tutorial, and as many trivial notebooks.

    Each tutorial notebook runs next to its trivial twins, one-cell (the
    floor: kernel start-up) and with as many ``1 + 1`` cells (the executor's
    own cost per cell included). A figure is the sum over the notebooks of
    each one's median, so one slow kernel start does not skew a whole run.
    """
    runs: dict[str, dict[Path, list[float]]] = {"ours": {}, "one": {}, "cells": {}}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        twins = {
            path: (
                _trivial_twin(path, workdir, False),
                _trivial_twin(path, workdir, True),
            )
            for path in NOTEBOOKS
        }
        for _ in range(repeats):
            for path, (one, cells) in twins.items():
                for kind, notebook in (("ours", path), ("one", one), ("cells", cells)):
                    runs[kind].setdefault(path, []).append(_execute(notebook, workdir))
    return {
        kind: sum(statistics.median(times) for times in by_path.values())
        for kind, by_path in runs.items()
    }


def kernel_memory(cells: list[str]) -> float:
    """Resident MiB of a fresh kernel after running ``cells``."""
    manager, client = start_new_kernel(
        kernel_name="python3", cwd=str(ROOT / "notebooks"), extra_arguments=QUIET_KERNEL
    )
    try:
        for source in cells:
            reply = client.execute_interactive(
                source, timeout=120, output_hook=lambda m: None
            )
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"cell failed: {source[:60]!r}")
        time.sleep(0.5)
        return psutil.Process(manager.provisioner.pid).memory_info().rss / 2**20
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def step_3_cells() -> list[str]:
    nb = nbformat.read(ROOT / "notebooks" / "03-handle-the-response.ipynb", 4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def summary(ours: list[float], floor: list[float], unit: float = 1000) -> dict:
    a, b = statistics.median(ours), statistics.median(floor)
    return {"ours": a * unit, "floor": b * unit, "ratio": a / b}


def notebook_rows(seconds: dict[str, float]) -> dict[str, dict]:
    """The notebook figures: against one-cell twins, and same-length twins."""
    ours = seconds["ours"]
    return {
        "notebooks_s": {
            "ours": ours,
            "floor": seconds["one"],
            "ratio": ours / seconds["one"],
        },
        "notebooks_same_cells_s": {
            "ours": ours,
            "floor": seconds["cells"],
            "ratio": ours / seconds["cells"],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    repeats = max(1, min(args.repeats, 20))
    os.environ.update(UNATTENDED)

    widgets = time_import("import ipywidgets", repeats * 3)
    report = {
        "import_ms": summary(
            time_import("import smartcar_tutorial", repeats * 3), widgets
        ),
        "import_full_ms": summary(
            time_import(
                "import smartcar_tutorial as s; s.FlowWidget; s.Sandbox; s.start_flow",
                repeats * 3,
            ),
            widgets,
        ),
        **notebook_rows(time_notebooks(repeats)),
        "memory_mib": summary(
            [kernel_memory(step_3_cells())], [kernel_memory(["1 + 1"])], unit=1
        ),
    }

    print(f"{'figure':<34}{'ours':>10}{'floor':>10}{'ratio':>8}")
    for name, row in report.items():
        print(
            f"{name:<34}{row['ours']:>10.1f}{row['floor']:>10.1f}{row['ratio']:>8.2f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
