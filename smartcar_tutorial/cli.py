"""The command line: ``serve``, ``sandbox``, ``doctor`` and ``docs``.

``serve`` runs the guide's app as a plain program: the sandbox, and a
server with ``/login`` and ``/callback``. With ``--once`` it prints the
first answer as one JSON line and exits 0 for a code, 1 for an error.

``sandbox`` runs only the offline stand-in for Smartcar, in the
foreground, and prints the ``export`` lines that point Smartcar's SDK at it.

``doctor`` checks the environment a workshop will run in (see
:mod:`~smartcar_tutorial.doctor`). ``docs`` builds the tutorial's pages from
the notebooks (see :mod:`~smartcar_tutorial.docs`).

    python -m smartcar_tutorial serve --once --autopilot approve
    python -m smartcar_tutorial sandbox --register my-app:secret:http://localhost:8000/cb
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from . import where
from .docs_cli import add_docs_arguments, run_docs
from .errors import AuthorizationError, CallbackTimeoutError, TutorialError
from .sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, Sandbox
from .steps import DECISIONS, DEFAULT_SCOPE, SANDBOX_PORT, redo_steps, start_flow

logger = logging.getLogger(__name__)

EXIT_CODE, EXIT_ERROR, EXIT_TIMEOUT, EXIT_CONFIG = 0, 1, 3, 4


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m smartcar_tutorial",
        description="Smartcar's authorization flow, step by step, offline.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the guide's app: /login redirects to Connect, /callback "
        "receives the answer",
        description="Run the guide's app against the offline sandbox. Exit "
        f"status with --once: {EXIT_CODE} code, {EXIT_ERROR} error from "
        f"Connect, {EXIT_TIMEOUT} no answer in time, {EXIT_CONFIG} bad settings.",
    )
    serve.add_argument("--port", type=int, default=8080, help="default: 8080")
    serve.add_argument("--path", default="/callback", help="default: /callback")
    serve.add_argument(
        "--scope",
        nargs="+",
        default=list(DEFAULT_SCOPE),
        help="permissions to ask for (default: %(default)s)",
    )
    serve.add_argument("--mode", default="test", help="test, live or simulated")
    serve.add_argument(
        "--once", action="store_true", help="exit after the first answer"
    )
    serve.add_argument(
        "--autopilot",
        choices=DECISIONS,
        help="play the vehicle owner: walk the consent pages and press "
        "Allow (approve) or Deny (deny)",
    )
    serve.add_argument(
        "--timeout", type=float, default=300, help="seconds to wait (default: 300)"
    )

    sandbox = commands.add_parser(
        "sandbox",
        help="run the offline stand-in for Smartcar's Connect, token endpoint "
        "and vehicle API until Ctrl+C",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Run the offline stand-in for Smartcar in the foreground until\n"
            "Ctrl+C, and print the export lines that point Smartcar's SDK at it.\n"
            "\n"
            "State lives in memory only. A restart forgets every Connect session,\n"
            "code, access token and refresh token, and every app added with\n"
            "--register; only the demo app comes back."
        ),
        epilog=(
            "example:\n  python -m smartcar_tutorial sandbox --port 8081 \\\n"
            "      --register my-app:my-secret:http://localhost:8000/callback"
        ),
    )
    sandbox.add_argument(
        "--port",
        type=int,
        default=SANDBOX_PORT,
        help="port on localhost; 0 picks a free one (default: %(default)s)",
    )
    sandbox.add_argument(
        "--register",
        type=_registration,
        action="append",
        default=[],
        metavar="CLIENT_ID:SECRET:REDIRECT_URI",
        help="also accept your own app; repeat for more apps or redirect URIs",
    )

    doctor = commands.add_parser(
        "doctor",
        help="check the environment a workshop will run in: one line per "
        "check, PASS or FAIL with the fix",
        description="Check the environment that runs the Jupyter server: widget "
        "front end, jupyter-server-proxy, ports, the python3 kernel, a flow "
        "through the proxy, and the notebooks. Exit status 1 when a check fails.",
    )
    doctor.add_argument(
        "--quick", action="store_true", help="skip running the notebooks"
    )
    doctor.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        help="folder of the notebooks to run (default: ./notebooks)",
    )
    doctor.add_argument(
        "--server-url",
        help="check this running Jupyter server's proxy (its base URL, such as "
        "http://127.0.0.1:8888/user/alice/) instead of starting one",
    )
    doctor.add_argument(
        "--token", help="a token for --server-url (sent as Authorization)"
    )
    add_docs_arguments(
        commands.add_parser(
            "docs",
            help="run every notebook against the sandbox and write its page, "
            "then an index",
            description="Build the tutorial's pages: run each notebook unattended "
            "against the sandbox, convert it to Markdown or HTML, and write an "
            "index. Exit status 1 when a notebook fails or a page would show a "
            "secret.",
        )
    )
    return parser


def _registration(value: str) -> tuple[str, str, str]:
    """Split ``--register CLIENT_ID:SECRET:REDIRECT_URI`` into its parts."""
    parts = value.split(":", 2)
    if len(parts) != 3 or not all(parts):
        # Never echo the value: it holds a secret.
        raise argparse.ArgumentTypeError(
            "expected CLIENT_ID:SECRET:REDIRECT_URI, such as "
            "my-app:my-secret:http://localhost:8000/callback"
        )
    client_id, secret, redirect_uri = parts
    return client_id, secret, redirect_uri


def _serve(args: argparse.Namespace) -> int:
    redirect_uri = f"http://localhost:{args.port}{args.path}"
    steps = redo_steps(redirect_uri, mode=args.mode)
    if steps.server.took_over_from:
        print(
            f"Took port {steps.server.port} over from {steps.server.took_over_from}.",
            file=sys.stderr,
        )
    try:
        while True:
            flow = start_flow(
                steps.client, args.scope, steps.server, autopilot=args.autopilot
            )
            login = where.detect().browser_url(f"{steps.server.url}/login")
            print(
                f"Open {login} in a browser "
                f"(Connect: {steps.smartcar.connect_origin}; Ctrl+C stops).",
                file=sys.stderr,
            )
            try:
                result = flow.wait(timeout=args.timeout)
            except AuthorizationError as exc:
                result = exc.result
            except CallbackTimeoutError:
                print(
                    f"error: no answer reached {steps.server.redirect_uri} within "
                    f"{args.timeout:g} s. Open {login} again and go through "
                    "Connect to the end (Allow or Deny), or give serve a larger "
                    "--timeout.",
                    file=sys.stderr,
                )
                return EXIT_TIMEOUT
            print(json.dumps(result.as_dict()), flush=True)
            if args.once:
                return EXIT_CODE if result.ok else EXIT_ERROR
    finally:
        steps.server.stop()
        if steps.sandbox is not None:
            steps.sandbox.stop()


def _run_sandbox(args: argparse.Namespace) -> int:
    sandbox = Sandbox(port=args.port)
    for client_id, secret, redirect_uri in args.register:
        known = sandbox.store.get_client(client_id)
        if known is not None and known.client_secret == secret:
            sandbox.register_redirect_uri(redirect_uri, client_id)
        else:
            sandbox.register_client(client_id, secret, [redirect_uri], client_id)
    # Milestones (codes issued, tokens refused) help whoever tests an app.
    logging.getLogger("smartcar_tutorial").setLevel(logging.INFO)

    stop = threading.Event()
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread:
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sandbox.start()
    try:
        print(_sandbox_banner(sandbox, args.register), flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
    print("# Sandbox stopped; it forgot every code and token.", flush=True)
    return 0


def _sandbox_banner(sandbox: Sandbox, registered: list[tuple[str, str, str]]) -> str:
    """Return the lines to paste into a shell before importing ``smartcar``."""
    lines = [
        f"# smartcar-tutorial sandbox on {sandbox.origin} (Ctrl+C stops it).",
        "# Smartcar's SDK reads these when it is imported:",
        f"export SMARTCAR_CONNECT_ORIGIN={sandbox.origin}",
        f"export SMARTCAR_AUTH_ORIGIN={sandbox.auth_origin}",
        f"export SMARTCAR_API_ORIGIN={sandbox.api_origin}",
        "# Demo app: demo-only credentials, public, accepted by this sandbox alone.",
        f"export SMARTCAR_CLIENT_ID={DEMO_CLIENT_ID}",
        f"export SMARTCAR_CLIENT_SECRET={DEMO_CLIENT_SECRET}",
        f"export SMARTCAR_REDIRECT_URI={DEMO_REDIRECT_URI}",
    ]
    for client_id, _, redirect_uri in registered:
        lines.append(
            f"# Registered app {client_id!r} with redirect URI {redirect_uri} "
            "(its secret is the one you gave)."
        )
    return "\n".join(lines)


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import default_notebooks, run_checks  # heavy imports: on demand

    notebooks = None if args.quick else (args.notebooks or default_notebooks())
    return run_checks(notebooks, args.server_url, args.token)


COMMANDS = {
    "serve": _serve,
    "sandbox": _run_sandbox,
    "doctor": _doctor,
    "docs": run_docs,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return COMMANDS[args.command](args)
    except CallbackTimeoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT
    except TutorialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
