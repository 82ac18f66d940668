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
    "docs_build": ["--repeats", "2"],
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

    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"\nWrote {args.json}")
    if failed:
        print("Failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
