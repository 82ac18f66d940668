"""Whole unattended flow against one sandbox: one learner, then many at once.

One flow is: build the auth URL, walk the consent pages as a browser would
(intro, brand, login, Allow), follow the redirect to the callback server,
exchange the code for tokens, and make the first request (vehicle list and
attributes). Everything runs on 127.0.0.1, in this process, bounded in
count and time.

    python benchmarks/flow_load.py --runs 30 --learners 50 --json flow.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from smartcar_tutorial import exchange_code
from smartcar_tutorial.connection import Connection
from smartcar_tutorial.sandbox import SimulatedOwner
from smartcar_tutorial.steps import redo_steps, start_flow

MAX_LEARNERS = 200
DEADLINE_SECONDS = 120


def one_flow(steps, app: Connection) -> float:
    """Run one whole flow; return its duration in seconds."""
    started = time.perf_counter()
    flow = start_flow(steps.client, ["read_vehicle_info"], steps.server)
    SimulatedOwner("approve", timeout=30).walk(flow.auth_url)
    access = exchange_code(app, flow.wait(timeout=30).code)

    headers = {"Authorization": f"Bearer {access.access_token}"}
    api = app.api_origin + "/v2.0"
    vehicles = requests.get(f"{api}/vehicles", headers=headers, timeout=30).json()
    first = vehicles["vehicles"][0]
    requests.get(
        f"{api}/vehicles/{first}", headers=headers, timeout=30
    ).raise_for_status()
    return time.perf_counter() - started


def summarize(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "count": len(samples),
        "median_ms": statistics.median(samples) * 1000,
        "p99_ms": p99 * 1000,
    }


def measure(runs: int, learners: int) -> dict[str, object]:
    steps = redo_steps("http://localhost:0/callback")
    app = Connection(
        steps.smartcar.client_id,
        steps.smartcar.client_secret,
        steps.client.redirect_uri,
        steps.smartcar.connect_origin,
        steps.smartcar.token_url,
        steps.smartcar.api_origin,
    )
    try:
        one_flow(steps, app)  # warm-up
        single = [one_flow(steps, app) for _ in range(runs)]

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=learners) as pool:
            futures = [pool.submit(one_flow, steps, app) for _ in range(learners)]
            concurrent = [f.result(timeout=DEADLINE_SECONDS) for f in futures]
        wall = time.perf_counter() - started
    finally:
        steps.server.stop()
        steps.sandbox.stop()

    return {
        "one_learner": summarize(single),
        "concurrent": {
            "learners": learners,
            **summarize(concurrent),
            "wall_s": wall,
            "flows_per_s": learners / wall,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="flows one at a time")
    parser.add_argument("--learners", type=int, default=50, help="flows at once")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if not 1 <= args.learners <= MAX_LEARNERS or not 1 <= args.runs <= 1000:
        parser.error(f"choose 1-1000 runs and 1-{MAX_LEARNERS} learners")

    report = measure(args.runs, args.learners)
    one, many = report["one_learner"], report["concurrent"]
    print(f"{'whole flow':<34}{'median':>10}{'p99':>10}")
    print(f"{'one learner':<34}{one['median_ms']:>8.1f}ms{one['p99_ms']:>8.1f}ms")
    print(
        f"{str(many['learners']) + ' learners at once':<34}"
        f"{many['median_ms']:>8.1f}ms{many['p99_ms']:>8.1f}ms"
        f"   {many['flows_per_s']:.1f} flows/s"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
