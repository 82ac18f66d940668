"""How fast a redirect's code reaches Python, and whether noise can spoil it.

Three figures, all measured on 127.0.0.1 with bounded counts and times:

1. **request → result** for the tutorial's ``CallbackServer``: from sending
   the redirect's HTTP request to ``flow.wait()`` returning the code;
2. the same interval for google-auth-oauthlib's one-shot local server,
   driven the way ``InstalledAppFlow.run_local_server`` drives it, and the
   ratio of the two;
3. **noise survival**: a burst of requests that must not complete a flow
   (probes, wrong or missing state, other paths, a repeated redirect) while
   a flow waits, then the real redirect, then more noise after it.

    python benchmarks/callback_latency.py
    python benchmarks/callback_latency.py --runs 400 --json out.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import platform
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from typing import Any
from urllib.parse import urlencode

from smartcar_tutorial import new_state
from smartcar_tutorial.callback_server import CallbackServer

HOST = "127.0.0.1"
CALLBACK_PATH = "/callback"
TIMEOUT = 5.0  # seconds any single wait or request may take
SEND_DELAY = 0.002  # lets the waiting side block before the request leaves
WARMUP = 20
ROUNDS = 5  # ours and theirs alternate, so slow drift hits both alike
NOISE_WORKERS = 8
NOISE_SECONDS = 10.0
MAX_RUNS = 5000


# Talking HTTP -------------------------------------------------------------


def request(port: int, target: str, method: str = "GET", body: str = "") -> int:
    """Send one request on a fresh connection, read the answer, return its status."""
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        connection.request(method, target, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def send_soon(port: int, target: str, sent: list[float]) -> threading.Thread:
    """Send ``target`` from another thread, as the browser does; note when."""

    def send() -> None:
        time.sleep(SEND_DELAY)
        sent.append(time.perf_counter())
        request(port, target)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def answer_target(path: str, code: str, state: str) -> str:
    return f"{path}?{urlencode({'code': code, 'state': state})}"


# 1. Ours ----------------------------------------------------------------


def time_ours(server: CallbackServer, runs: int) -> list[float]:
    """Return request → ``flow.wait()`` intervals, in seconds."""
    samples = []
    for run in range(runs):
        state, code = new_state(), f"code-ours-{run}"
        flow = server.expect(state)
        sent: list[float] = []
        browser = send_soon(
            server.port, answer_target(CALLBACK_PATH, code, state), sent
        )
        result = flow.wait(timeout=TIMEOUT)
        done = time.perf_counter()
        browser.join(TIMEOUT)
        if result.code != code:
            raise RuntimeError(f"run {run}: got {result.code!r}, sent {code!r}")
        samples.append(done - sent[0])
    return samples


# 2. Theirs --------------------------------------------------------------


# Theirs: (make a one-shot server and its app, parse a redirect URI + state).
Theirs = tuple[Callable[[], tuple[Any, Any]], Callable[[str, str], dict]]


def load_theirs() -> Theirs | None:
    """Return (make a one-shot server, parse its answer), or None if missing.

    The server is built exactly as ``run_local_server`` builds it; the parse
    is what its ``fetch_token`` does with the redirect before any network
    call: https rewrite, then oauthlib's check of ``state`` and ``code``.
    """
    try:
        import wsgiref.simple_server

        from google_auth_oauthlib import flow as google_flow
        from oauthlib.oauth2 import WebApplicationClient
    except ImportError:
        return None

    # _ExclusiveWSGIServer exists since 1.2.1; older releases used WSGIServer.
    server_class = getattr(
        google_flow, "_ExclusiveWSGIServer", wsgiref.simple_server.WSGIServer
    )

    def make_server():
        app = google_flow._RedirectWSGIApp("The flow is complete.")
        server = wsgiref.simple_server.make_server(
            HOST,
            0,
            app,
            server_class=server_class,
            handler_class=google_flow._WSGIRequestHandler,
        )
        server.timeout = TIMEOUT
        return server, app

    client = WebApplicationClient("benchmark-client")

    def parse(last_request_uri: str, state: str) -> dict:
        return client.parse_request_uri_response(
            last_request_uri.replace("http", "https"), state=state
        )

    return make_server, parse


def time_theirs(theirs: Theirs, runs: int) -> list[float]:
    """Return request → parsed-code intervals for fresh one-shot servers."""
    make_server, parse = theirs
    samples = []
    for run in range(runs):
        server, app = make_server()
        try:
            state, code = new_state(), f"code-theirs-{run}"
            sent: list[float] = []
            browser = send_soon(
                server.server_port, answer_target("/", code, state), sent
            )
            server.handle_request()
            params = parse(app.last_request_uri, state)
            done = time.perf_counter()
            browser.join(TIMEOUT)
        finally:
            server.server_close()
        if params.get("code") != code:
            raise RuntimeError(f"run {run}: got {params!r}, sent {code!r}")
        samples.append(done - sent[0])
    return samples


def theirs_first_request_wins(theirs: Theirs) -> str:
    """Show what a stray first request does to the one-shot server."""
    make_server, parse = theirs
    server, app = make_server()
    try:
        browser = send_soon(server.server_port, "/favicon.ico", [])
        server.handle_request()
        browser.join(TIMEOUT)
        try:
            parse(app.last_request_uri, "expected-state")
        except Exception as exc:  # oauthlib raises one class per problem
            return f"ended its wait with no code ({type(exc).__name__})"
        return "returned a code"
    finally:
        server.server_close()


# 3. Noise ---------------------------------------------------------------


Request = tuple[str, str, str, str]  # kind, method, target, body


def get(kind: str, target: str) -> Request:
    return (kind, "GET", target, "")


def noise_requests(state: str, old_state: str) -> list[Request]:
    """Return requests that must never complete the flow waiting for ``state``."""
    path = CALLBACK_PATH
    forged = answer_target(path, "forged", state)
    return [
        get("favicon", "/favicon.ico"),
        ("HEAD with the real state", "HEAD", forged, ""),
        ("OPTIONS", "OPTIONS", path, ""),
        ("POST with the real state", "POST", path, forged.partition("?")[2]),
        get("wrong state", answer_target(path, "forged", new_state())),
        get("no state", f"{path}?code=forged"),
        get("real state, no code", f"{path}?state={state}"),
        get("nothing", path),
        get("other path, real state", answer_target("/x", "forged", state)),
        get("health", "/health"),
        get("login", "/login"),
        get("repeat of a done flow", answer_target(path, "old", old_state)),
    ]


def burst(port: int, kinds: list[Request], count: int) -> dict[str, object]:
    """Send ``count`` requests cycling through ``kinds``, within NOISE_SECONDS.

    NOISE_WORKERS clients send at once, as a browser's parallel connections
    and a link checker might.
    """
    deadline = time.monotonic() + NOISE_SECONDS
    statuses: dict[str, Counter] = {kind: Counter() for kind, *_ in kinds}
    latencies: list[float] = []

    def send(index: int) -> None:
        kind, method, target, body = kinds[index % len(kinds)]
        if time.monotonic() > deadline:
            statuses[kind]["not sent (time limit)"] += 1
            return
        started = time.perf_counter()
        try:
            statuses[kind][request(port, target, method, body)] += 1
        except OSError as exc:
            statuses[kind][type(exc).__name__] += 1
            return
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(NOISE_WORKERS) as pool:
        list(pool.map(send, range(count)))
    took = time.perf_counter() - started
    return {
        "requests": count,
        "answered": len(latencies),
        "seconds": took,
        "request_ms": summarize(latencies) if latencies else None,
        "slower_than_500ms": sum(t > 0.5 for t in latencies),
        "statuses": {k: dict(v) for k, v in statuses.items()},
    }


def check_noise(server: CallbackServer, count: int) -> dict[str, object]:
    """Noise while a flow waits, the real answer, then noise after it."""
    port = server.port
    old_state = new_state()
    old = server.expect(old_state)
    request(port, answer_target(CALLBACK_PATH, "old", old_state))
    old.wait(TIMEOUT)

    state, code = new_state(), "the-real-code"
    flow = server.expect(state)
    before = burst(port, noise_requests(state, old_state), count)
    waited_through = not flow.done

    sent = time.perf_counter()
    status = request(port, answer_target(CALLBACK_PATH, code, state))
    result = flow.wait(timeout=TIMEOUT)
    latency = time.perf_counter() - sent

    again = [
        get("repeat of the real answer", answer_target(CALLBACK_PATH, code, state)),
        get("real state, other code", answer_target(CALLBACK_PATH, "late", state)),
        *noise_requests(state, old_state),
    ]
    after = burst(port, again, max(1, count // 5))
    return {
        "burst_before": before,
        "flow_still_waiting_after_burst": waited_through,
        "real_answer_status": status,
        "real_code_received": result.code == code,
        "real_answer_seconds": latency,
        "burst_after": after,
        "code_kept_after_burst": (
            flow.result is not None
            and flow.result.code == code
            and old.result is not None
            and old.result.code == "old"
        ),
    }


# Report -----------------------------------------------------------------


def summarize(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "runs": len(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "min_ms": ordered[0] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def version_of(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def print_report(report: dict) -> None:
    ours, theirs = report["latency"]["ours"], report["latency"].get("theirs")
    print(f"{'request -> result':<34}{'median':>10}{'p99':>10}{'runs':>7}")
    for label, row in (("smartcar-tutorial", ours), ("google-auth-oauthlib", theirs)):
        if row:
            print(
                f"  {label:<32}{row['median_ms']:>8.3f}ms{row['p99_ms']:>8.3f}ms"
                f"{row['runs']:>7}"
            )
    ratio = report["latency"].get("ratio")
    if ratio:
        print(
            f"  {'ratio ours/theirs':<32}{ratio['median']:>10.2f}{ratio['p99']:>10.2f}"
        )
    else:
        print("  google-auth-oauthlib is not installed: pip install -e '.[test]'")

    noise = report["noise"]
    before, after = noise["burst_before"], noise["burst_after"]
    yes = {True: "yes", False: "NO"}
    print()
    print("noise survival (smartcar-tutorial)")
    print(
        f"  burst while waiting:        {before['answered']}/{before['requests']} "
        f"answered in {before['seconds']:.2f} s "
        f"({before['answered'] / before['seconds']:.0f} req/s)"
    )
    times = before["request_ms"]
    if times:
        print(
            f"  one noise request:          median {times['median_ms']:.1f} ms, "
            f"slowest {times['max_ms']:.0f} ms, "
            f"{before['slower_than_500ms']} over 500 ms"
        )
    print(
        f"  flow still waiting after:   {yes[noise['flow_still_waiting_after_burst']]}"
    )
    print(
        f"  real code received:         {yes[noise['real_code_received']]} "
        f"({noise['real_answer_seconds'] * 1000:.2f} ms, "
        f"HTTP {noise['real_answer_status']})"
    )
    print(
        f"  burst after the answer:     {after['answered']}/{after['requests']} "
        f"in {after['seconds']:.2f} s; codes kept: "
        f"{yes[noise['code_kept_after_burst']]}"
    )
    if "theirs_first_request" in report:
        print(
            "  for contrast, google's one-shot server given a favicon request "
            f"first: {report['theirs_first_request']}"
        )


def positive_count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_RUNS:
        raise argparse.ArgumentTypeError(f"choose a count from 1 to {MAX_RUNS}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs",
        type=positive_count,
        default=200,
        help="timed redirects per server, after 20 warm-up ones (default 200)",
    )
    parser.add_argument(
        "--noise",
        type=positive_count,
        default=500,
        help="requests in the noise burst; a fifth as many follow the answer "
        "(default 500, cut off after 10 s)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)

    theirs = load_theirs()
    per_round = max(1, args.runs // ROUNDS)
    ours_samples: list[float] = []
    theirs_samples: list[float] = []
    with CallbackServer(f"http://localhost:0{CALLBACK_PATH}", host=HOST) as server:
        time_ours(server, WARMUP)
        if theirs:
            time_theirs(theirs, WARMUP)
        for _ in range(ROUNDS):
            ours_samples += time_ours(server, per_round)
            if theirs:
                theirs_samples += time_theirs(theirs, per_round)
        noise = check_noise(server, args.noise)

    latency: dict[str, object] = {"ours": summarize(ours_samples)}
    report = {
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "smartcar-tutorial": version_of("smartcar-tutorial"),
            "google-auth-oauthlib": version_of("google-auth-oauthlib"),
        },
        "latency": latency,
        "noise": noise,
    }
    if theirs:
        latency["theirs"] = summarize(theirs_samples)
        latency["ratio"] = {
            key: latency["ours"][f"{key}_ms"] / latency["theirs"][f"{key}_ms"]
            for key in ("median", "p99")
        }
        report["theirs_first_request"] = theirs_first_request_wins(theirs)

    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2, default=str)
            out.write("\n")
    ok = noise["real_code_received"] and noise["code_kept_after_burst"]
    return 0 if ok and noise["flow_still_waiting_after_burst"] else 1


if __name__ == "__main__":
    sys.exit(main())
