"""Which Redis server an operator command talks to, and the connection to it.

The server is chosen, first match wins, by:

1. `--redis-url URL`;
2. the REDIS_URL environment variable (what the engines use too);
3. the file `.nautilus/credentials/operator.url` (0600: the operator's identity on a bus that
   `nautilus up` runs with a user per engine), else `.nautilus/server.url`, both in the current
   directory and written by `nautilus up` while the local bus it started is running.

Without any of them a command fails with a message saying exactly that, rather than guessing a
default server that may be someone else's.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from nautilus.cli.command_errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.credentials import CredentialsError, read_secret_file
from nautilus.runtime.errors import ServerRejectedError, ServerUnreachableError
from nautilus.runtime.redaction import redacted

__all__ = [
    "SERVER_SELECTION_HELP",
    "SERVER_URL_FILE",
    "add_server_option",
    "connect",
    "redacted",
    "select_server_url",
]

#: Written by `nautilus up` (relative to the directory it runs in) while its server is running.
SERVER_URL_FILE = Path(".nautilus") / "server.url"
#: The operator's URL (0600), written by `nautilus up` when every engine has its own user.
OPERATOR_URL_FILE = Path(".nautilus") / "credentials" / "operator.url"

SERVER_SELECTION_HELP = (
    "The server is --redis-url, else the REDIS_URL environment variable, else the URL in "
    f"{SERVER_URL_FILE} in the current directory (written by `nautilus up` while it runs)."
)

_CONNECT_TIMEOUT_S = 2.0
#: Longer than any blocking read a command issues (tail --follow blocks 1 s at a time).
_SOCKET_TIMEOUT_S = 30.0


def add_server_option(parser: argparse.ArgumentParser) -> None:
    """The `--redis-url` option every server command takes."""
    parser.add_argument(
        "--redis-url",
        metavar="URL",
        help="redis://[:password@]host:port/db of the bus's server. " + SERVER_SELECTION_HELP,
    )


def select_server_url(explicit: str | None, cwd: Path | None = None) -> str:
    """The server URL by the rules above; CommandError (usage) when none is given."""
    if explicit:
        return explicit
    from_env = os.environ.get("REDIS_URL", "").strip()
    if from_env:
        return from_env
    operator_file = (cwd or Path.cwd()) / OPERATOR_URL_FILE
    if operator_file.exists():
        try:
            return read_secret_file(operator_file)
        except CredentialsError as exc:
            raise CommandError(str(exc)) from None
    url_file = (cwd or Path.cwd()) / SERVER_URL_FILE
    try:
        for line in url_file.read_text().splitlines():
            if line.strip():
                return line.strip()
    except OSError:
        pass
    raise CommandError(
        "no server given: pass --redis-url URL, set REDIS_URL, or start the local bus with "
        f"`nautilus up` in this directory (it writes {SERVER_URL_FILE})"
    )


@asynccontextmanager
async def connect(explicit_url: str | None) -> AsyncIterator[tuple[RedisAdmin, str]]:
    """The selected server (PINGed) through the admin layer, and its URL; closed on exit. On a
    node of a Redis Cluster the admin talks to the whole cluster (runtime/admin.py).

    A malformed URL is a usage error; a server that does not answer, or refuses this identity,
    is a failure naming the URL (redacted). Later server errors reach the caller as the admin
    layer's typed errors (runtime/admin.py), which `run_command` reports in one line.
    """
    url = select_server_url(explicit_url)
    try:
        admin = RedisAdmin.from_url(
            url, socket_timeout_s=_SOCKET_TIMEOUT_S, connect_timeout_s=_CONNECT_TIMEOUT_S
        )
    except ValueError as exc:
        raise CommandError(f"malformed Redis URL {redacted(url)!r}: {exc}", EXIT_USAGE) from None
    try:
        try:
            await admin.ping()
        except ValueError as exc:
            raise CommandError(f"malformed Redis URL {redacted(url)!r}: {exc}") from None
        except ServerUnreachableError as exc:
            raise CommandError(
                f"cannot reach Redis at {redacted(url)}: {exc.detail}", EXIT_FAILURE
            ) from None
        except ServerRejectedError as exc:
            raise CommandError(
                f"cannot reach Redis at {redacted(url)}: it refused this client: {exc.reply}",
                EXIT_FAILURE,
            ) from None
        yield admin, url
    finally:
        await admin.close()
