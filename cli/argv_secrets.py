"""Passwords never stay on the command line: a `--redis-url` with a password is moved off it.

A process's command line is world-readable (`ps`, /proc/<pid>/cmdline) for as long as the process
runs, and `nautilus up` or `nautilus tail --follow` run for a long time. So when the command line
of a `nautilus` process holds a `--redis-url` whose URL carries a password, the process, before
doing anything else, runs itself again once (exec: same process id, same terminal) with that
option removed and the URL in the environment variable NAUTILUS_REDIS_URL_FROM_ARGV, which only
the process's own user can read. The new process takes the URL from there as if it were given
with `--redis-url` (it wins over REDIS_URL the same way) and removes the variable at once, so
no child process inherits it. The password was visible for the few milliseconds before the exec;
giving it in REDIS_URL or a credentials file avoids even that.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

__all__ = ["FROM_ARGV_ENV", "hide_passwords_from_argv", "take_url_moved_from_argv"]

FROM_ARGV_ENV = "NAUTILUS_REDIS_URL_FROM_ARGV"
_OPTION = "--redis-url"
#: argparse accepts unambiguous prefixes of long options; "--red" is the shortest that names
#: --redis-url alone in every command (not --report, --reset-streams, --reason).
_SHORTEST_PREFIX = "--red"


def _names_the_option(word: str) -> bool:
    return len(word) >= len(_SHORTEST_PREFIX) and _OPTION.startswith(word)


def _has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def split_secret_url(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """`argv` without any `--redis-url` whose URL has a password, and the last such URL."""
    kept: list[str] = []
    secret: str | None = None
    words = iter(argv)
    for word in words:
        name, equals, value = word.partition("=")
        if name.startswith("--") and _names_the_option(name):
            if equals:
                if _has_password(value):
                    secret = value
                    continue
            else:
                following = next(words, None)
                if following is not None and _has_password(following):
                    secret = following
                    continue
                kept.append(word)
                if following is not None:
                    kept.append(following)
                continue
        kept.append(word)
    return kept, secret


def hide_passwords_from_argv() -> None:
    """Exec this program again without the password-bearing URL on its command line (see the
    module docstring); returns at once when there is none."""
    arguments, secret = split_secret_url(sys.argv[1:])
    if secret is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    environment = {**os.environ, FROM_ARGV_ENV: secret}
    os.execve(
        sys.executable,
        [sys.executable, "-m", "nautilus.cli.main", *arguments],
        environment,
    )


def take_url_moved_from_argv() -> str | None:
    """The URL an earlier exec moved off the command line (removed from the environment)."""
    return os.environ.pop(FROM_ARGV_ENV, None)
