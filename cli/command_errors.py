"""How operator commands fail: one line on stderr and an exit status, never a traceback.

Exit statuses shared by every command that talks to the server:

    0  done
    1  the server could not be reached, or an operation on it (or on a file) failed
    2  the command line is wrong: bad URL, unknown stream, group or id, missing confirmation
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from nautilus.runtime.errors import TransportError
from nautilus.runtime.redaction import redacted

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "CommandError", "run_command"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A command cannot go on: `message` is for the operator, `exit_status` for scripts."""

    def __init__(self, message: str, exit_status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_status = exit_status


def run_command(name: str, command: Callable[[], Awaitable[int]]) -> int:
    """Run an async command to completion, turning expected failures into one line and a status.

    Ctrl-C ends a command normally (it is how `tail --follow` is stopped).
    """
    try:
        return asyncio.run(_awaited(command))
    except BrokenPipeError:
        raise  # the reader went away (`| head`): main() ends quietly
    except CommandError as exc:
        one_line = " ".join(redacted(exc.message).split())
        print(f"nautilus {name}: error: {one_line}", file=sys.stderr)
        return exc.exit_status
    except TransportError as exc:
        one_line = " ".join(redacted(str(exc)).split())
        print(f"nautilus {name}: error: the server failed: {one_line}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:  # a file the command reads or writes
        one_line = " ".join(redacted(str(exc)).split())
        print(f"nautilus {name}: error: {one_line}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK


async def _awaited(command: Callable[[], Awaitable[int]]) -> int:
    return await command()
