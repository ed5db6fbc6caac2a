# PYTHON_ARGCOMPLETE_OK
"""The `nautilus` command: one entry point for operators and developers.

How it behaves, for every command: a wrong command line is one line on stderr and exit status 2
(never a usage dump or a traceback); output into a pipe that closes (`| head`) ends the command
quietly; an unexpected error is one line and exit status 1 (NAUTILUS_DEBUG=1 re-raises it, for
the traceback). Shell completion comes from argcomplete:
`eval "$(register-python-argcomplete nautilus)"`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import argcomplete

from nautilus.cli import (
    acl_command,
    bench_command,
    codegen_command,
    contract_command,
    dashboard_command,
    dlq_command,
    docs_command,
    group_command,
    publish_command,
    schema_command,
    stats_command,
    tail_command,
    trim_command,
    up_command,
)
from nautilus.cli.arguments import CommandParser, redis_url
from nautilus.cli.argv_secrets import hide_passwords_from_argv, take_url_moved_from_argv
from nautilus.cli.command_errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE

__all__ = ["build_parser", "main"]

#: Set to 1 to see the traceback of an unexpected error instead of its one-line summary.
DEBUG_ENV = "NAUTILUS_DEBUG"


def _version() -> str:
    try:
        return version("nautilus-messagebus")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="nautilus",
        description="Nautilus MessageBus: schema-first messaging over Redis Streams.",
    )
    parser.add_argument("--version", action="version", version=f"nautilus {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # One line per command module; commands are listed in `nautilus --help` in this order.
    contract_command.register(commands)
    schema_command.register(commands)
    tail_command.register(commands)
    publish_command.register(commands)
    stats_command.register(commands)
    group_command.register(commands)
    dlq_command.register(commands)
    trim_command.register(commands)
    codegen_command.register(commands)
    up_command.register(commands)
    acl_command.register(commands)
    bench_command.register(commands)
    dashboard_command.register(commands)
    docs_command.register(commands)
    return parser


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        hide_passwords_from_argv()  # may exec this program again, without them
    parser = build_parser()
    argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    moved = take_url_moved_from_argv()
    if moved is not None and hasattr(args, "redis_url"):
        try:
            args.redis_url = redis_url(moved)
        except argparse.ArgumentTypeError as exc:
            print(f"nautilus {args.command}: error: argument --redis-url: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        result: int = args.handler(args)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"nautilus {args.command}: internal error: {exc!r} ({DEBUG_ENV}=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return result


if __name__ == "__main__":
    sys.exit(main())
