"""`nautilus dashboard`: where the desk's dashboard of a running `nautilus up` is, checked live.

The dashboard is served by the WebSocket engine on its port (engines/websocket): this command
finds that port in the run directory `nautilus up` keeps (`.nautilus/run/websocket.ready.json`),
or takes `--port`, checks that the page's data answers, and prints the address (or opens it).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path
from typing import Any

from nautilus.cli.command_errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE

__all__ = ["register"]

_RUN_DIR = Path(".nautilus") / "run"
_TIMEOUT_S = 5.0


def _port(args: argparse.Namespace) -> int | None:
    if args.port is not None:
        return int(args.port)
    try:
        return int(json.loads((args.run_dir / "websocket.ready.json").read_text())["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _run(args: argparse.Namespace) -> int:
    if args.port is not None and not 0 < args.port < 65536:
        print(
            f"nautilus dashboard: error: --port must be 1..65535, got {args.port}", file=sys.stderr
        )
        return EXIT_USAGE
    port = _port(args)
    if port is None:
        print(
            f"nautilus dashboard: error: no WebSocket engine found in {args.run_dir}: start the "
            "engines with `nautilus up`, or pass --port",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    url = f"http://{args.host}:{port}/"
    try:
        with urllib.request.urlopen(url + "api/engines", timeout=_TIMEOUT_S) as answer:
            engines = json.loads(answer.read())["engines"]
    except (OSError, urllib.error.URLError, ValueError, KeyError) as exc:
        print(f"nautilus dashboard: error: {url} does not answer: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if args.json:
        print(json.dumps({"url": url, "engines": engines}, sort_keys=True))
    else:
        ok = sum(engine.get("status") == "ok" for engine in engines)
        print(f"{url}  ({ok} of {len(engines)} engines ok)")
    if args.open:
        webbrowser.open(url)
    return EXIT_OK


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "dashboard",
        help="the address of the desk's dashboard of a running nautilus up",
        description=(
            "Find the WebSocket engine of the run in this directory (or at --port), check that "
            "its dashboard answers, and print the page's address with how many engines are ok. "
            "Exit status: 0 it answers, 1 no engine found or it does not answer, 2 bad arguments."
        ),
    )
    parser.add_argument("--port", type=int, default=None, help="the WebSocket engine's port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--run-dir", type=Path, default=_RUN_DIR, help=f"run directory (default {_RUN_DIR})"
    )
    parser.add_argument("--json", action="store_true", help="print the address and engines as JSON")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")
    parser.set_defaults(handler=_run)
