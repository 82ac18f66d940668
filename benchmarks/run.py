"""Run every benchmark and write one table of figures.

    python benchmarks/run.py                 # prints the tables
    python benchmarks/run.py --json out.json # and writes them all as JSON

Each script also runs on its own; see README.md beside this file. All
traffic goes to 127.0.0.1, and every count and wait is bounded.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Script, and the arguments that keep a full run within a few minutes.
BENCHMARKS = {
    "callback_latency": ["--runs", "200", "--noise", "500"],
    "flow_load": ["--runs", "20", "--learners", "50"],
    "kernel_costs": ["--repeats", "3"],
    "docs_build": ["--repeats", "3"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="also write every figure here")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))

    report: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    failed = []
    for name in args.only or BENCHMARKS:
        print(f"\n== {name}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"{name}.json"
            module = importlib.import_module(name)
            status = module.main([*BENCHMARKS[name], "--json", str(out)])
            report[name] = json.loads(out.read_text()) if out.exists() else None
        if status:
            failed.append(name)

    print_summary(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"\nWrote {args.json}")
    if failed:
        print("Failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


#: kernel_costs.py's figures: key, row name, unit.
KERNEL_COST_ROWS = (
    ("import_ms", "import (vs ipywidgets)", "ms"),
    ("import_full_ms", "import, all loaded (vs ipywidgets)", "ms"),
    ("notebooks_s", "run 5 notebooks (vs 5 one-cell ones)", "s"),
    ("notebooks_same_cells_s", "run 5 notebooks (vs as many 1 + 1 cells)", "s"),
    ("memory_mib", "kernel memory after Step 3 (vs bare)", "MiB"),
)


def summary_rows(report: dict) -> list[tuple[str, str, str, str]]:
    """The headline figures: what, ours, its baseline, and their ratio.

    A benchmark that did not run, or a baseline that is not installed,
    leaves its rows out.
    """
    rows = []

    def add(
        name: str, ours: float, floor: float | None, unit: str, ratio: float = 0
    ) -> None:
        base = "" if floor is None else f"{floor:.1f} {unit}"
        ratio = ratio or (ours / floor if floor else 0)
        rows.append((name, f"{ours:.1f} {unit}", base, f"{ratio:.2f}" if ratio else ""))

    costs = report.get("kernel_costs") or {}
    for key, name, unit in KERNEL_COST_ROWS:
        if key in costs:
            row = costs[key]
            add(name, row["ours"], row["floor"], unit, row["ratio"])
    latency = ((report.get("callback_latency") or {}).get("latency")) or {}
    if latency.get("ours"):
        theirs = latency.get("theirs") or {}
        for key, label in (("median_ms", "median"), ("p99_ms", "p99")):
            add(
                f"callback {label} (vs google-auth-oauthlib)",
                latency["ours"][key],
                theirs.get(key),
                "ms",
            )
    flows = report.get("flow_load") or {}
    if flows:
        one, many = flows["one_learner"], flows["concurrent"]
        add("whole flow, one learner, median", one["median_ms"], None, "ms")
        add("whole flow, one learner, p99", one["p99_ms"], None, "ms")
        add(
            f"whole flow, {many['learners']} at once, median",
            many["median_ms"],
            None,
            "ms",
        )
        add(f"whole flow, {many['learners']} at once, p99", many["p99_ms"], None, "ms")
        add(
            f"whole flow, {many['learners']} at once, rate",
            many["flows_per_s"],
            None,
            "flows/s",
        )
    docs = report.get("docs_build") or {}
    if docs:
        add(
            "docs build (vs execute only)",
            docs["docs_build"]["median_s"],
            docs["execute_only"]["median_s"],
            "s",
        )
    return rows


def print_summary(report: dict) -> None:
    """Print :func:`summary_rows` as one table."""
    rows = summary_rows(report)
    if not rows:
        return
    head = ("figure", "ours", "baseline", "ratio")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    print("\n== summary")
    for row in [head, *rows]:
        cells = [row[0].ljust(widths[0])]
        cells += [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
