"""`python -m nautilus.codegen`: regenerate `generated/` from `schemas/` (or check it is fresh)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nautilus.codegen.compile import CodegenError
from nautilus.codegen.pipeline import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nautilus-codegen", description=__doc__)
    parser.add_argument("--schemas", type=Path, default=Path("schemas"), help="buf module root")
    parser.add_argument("--out", type=Path, default=Path("generated"), help="output directory")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the output is stale"
    )
    args = parser.parse_args(argv)
    try:
        result = generate(args.schemas, args.out, check=args.check)
    except CodegenError as exc:
        print(f"codegen: error: {exc}", file=sys.stderr)
        return 2
    verb = "stale" if args.check else "wrote"
    for path in result.written:
        print(f"codegen: {verb} {args.out / path}")
    for path in result.removed:
        print(f"codegen: {'extra' if args.check else 'removed'} {args.out / path}")
    contract = result.contract
    print(
        f"codegen: {len(contract.bus_messages)} bus message types on {len(contract.streams)} "
        f"streams; {len(result.written)} files {'out of date' if args.check else 'updated'}, "
        f"{len(result.removed)} {'extra' if args.check else 'removed'}"
    )
    return 1 if args.check and result.changed else 0


if __name__ == "__main__":
    sys.exit(main())
