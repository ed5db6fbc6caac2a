"""`nautilus docs`: the contract's AsyncAPI document as one HTML page, readable offline.

The page is rendered by `asyncapi_page.py` from the document `make codegen` generates (shipped in
the package as `nautilus.contract/asyncapi.json`), with everything inline: no scripts, styles or
fonts fetched from anywhere, so it opens the same on a machine without network.
"""

from __future__ import annotations

import argparse
import json
import sys
import webbrowser
from importlib import resources
from pathlib import Path
from typing import Any

from nautilus.cli.asyncapi_page import AsyncApiDocumentError, render_asyncapi
from nautilus.cli.command_errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE

__all__ = ["register"]

_DEFAULT_OUT = Path("build") / "asyncapi.html"


def _document(path: Path | None) -> Any:
    if path is None:
        text = (resources.files("nautilus.contract") / "asyncapi.json").read_text()
        return json.loads(text)
    return json.loads(path.read_text())


def _run(args: argparse.Namespace) -> int:
    try:
        page = render_asyncapi(_document(args.asyncapi))
    except OSError as exc:
        print(f"nautilus docs: error: cannot read {args.asyncapi}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, AttributeError, TypeError) as exc:
        reason = exc if isinstance(exc, AsyncApiDocumentError) else "not an AsyncAPI 3 document"
        print(f"nautilus docs: error: {args.asyncapi}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    out: Path = args.out
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page)
    except OSError as exc:
        print(f"nautilus docs: error: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILURE
    print(out)
    if args.open:
        webbrowser.open(out.resolve().as_uri())
    return EXIT_OK


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "docs",
        help="render the contract's AsyncAPI document as an offline HTML page",
        description=(
            "Write the bus's AsyncAPI document (channels, messages and their fields, who "
            "publishes and consumes what) as one self-contained HTML page, and print its path. "
            "Exit status: 0 written, 1 the page could not be written, 2 the document could not "
            "be read."
        ),
    )
    parser.add_argument(
        "--asyncapi",
        type=Path,
        default=None,
        help="document to render (default: the one generated from this contract)",
    )
    parser.add_argument(
        "--out", type=Path, default=_DEFAULT_OUT, help=f"page to write (default {_DEFAULT_OUT})"
    )
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")
    parser.set_defaults(handler=_run)
