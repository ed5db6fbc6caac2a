"""`nautilus codegen [--check]`: regenerate `generated/` from `schemas/`, as `make codegen` does.

The same pipeline as `python -m nautilus.codegen`, so the two can never disagree.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    try:
        from nautilus.codegen.__main__ import main as codegen_main
    except ImportError as exc:
        print(
            f"nautilus codegen: error: the generator's tools are missing ({exc}); "
            "install them with pip install -e '.[dev]'",
            file=sys.stderr,
        )
        return 2
    argv = ["--schemas", args.schemas, "--out", args.out]
    if args.check:
        argv.append("--check")
    return codegen_main(argv)


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "codegen",
        help="regenerate generated/ from schemas/ (or --check that it is fresh)",
        description=(
            "Compile the .proto contract and render every output (protobuf classes, stubs, typed "
            "clients, JSON Schemas, fingerprints, AsyncAPI). Exit status: 0 done (or fresh), "
            "1 --check found stale output, 2 the schemas do not compile or break a routing rule."
        ),
    )
    parser.add_argument("--schemas", default="schemas", help="buf module root (default schemas)")
    parser.add_argument("--out", default="generated", help="output directory (default generated)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the output is stale"
    )
    parser.set_defaults(handler=_run)
