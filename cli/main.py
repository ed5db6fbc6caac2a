"""The `nautilus` command: one entry point for operators and developers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nautilus.cli import (
    acl_command,
    bench_command,
    codegen_command,
    contract_command,
    dlq_command,
    schema_command,
    stats_command,
    tail_command,
    trim_command,
    up_command,
)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nautilus",
        description="Nautilus MessageBus: schema-first messaging over Redis Streams.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    contract_command.register(commands)
    schema_command.register(commands)
    tail_command.register(commands)
    stats_command.register(commands)
    dlq_command.register(commands)
    trim_command.register(commands)
    codegen_command.register(commands)
    up_command.register(commands)
    acl_command.register(commands)
    bench_command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
