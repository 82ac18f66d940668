"""The command line: ``python -m smartcar_tutorial serve``.

``serve`` runs the guide's app as a plain program: the sandbox, and a
server with ``/login`` and ``/callback``. With ``--once`` it prints the
first answer as one JSON line and exits 0 for a code, 1 for an error.

    python -m smartcar_tutorial serve --once --autopilot approve
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from .errors import AuthorizationError, CallbackTimeoutError, TutorialError
from .steps import DECISIONS, DEFAULT_SCOPE, redo_steps, start_flow

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
    return parser


def _serve(args: argparse.Namespace) -> int:
    redirect_uri = f"http://localhost:{args.port}{args.path}"
    steps = redo_steps(redirect_uri, mode=args.mode)
    try:
        while True:
            flow = start_flow(
                steps.client, args.scope, steps.server, autopilot=args.autopilot
            )
            print(
                f"Open {steps.server.url}/login in a browser "
                f"(Connect: {steps.sandbox.origin}; Ctrl+C stops).",
                file=sys.stderr,
            )
            try:
                result = flow.wait(timeout=args.timeout)
            except AuthorizationError as exc:
                result = exc.result
            print(json.dumps(result.as_dict()), flush=True)
            if args.once:
                return EXIT_CODE if result.ok else EXIT_ERROR
    finally:
        steps.server.stop()
        steps.sandbox.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return _serve(args)
    except CallbackTimeoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT
    except TutorialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
