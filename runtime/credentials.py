"""Redis credentials kept out of argv, output and world-readable files.

A credentials directory holds one file per Redis user, named after the user and holding its
password (`nautilus acl --passwords DIR` writes one, `nautilus up --credentials DIR` reads one).
Files that hold secrets are created 0600 (their directory 0700) before anything is written to
them, so no other local user can read them, not even for a moment.

An engine learns its identity from a URL file (`NAUTILUS_REDIS_URL_FILE`): a 0600 file holding
its full Redis URL with user name and password, which nothing ever puts on a command line.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from nautilus.runtime.errors import MessageBusError

__all__ = [
    "URL_FILE_ENV",
    "CredentialsError",
    "ensure_passwords",
    "new_password",
    "read_passwords",
    "read_secret_file",
    "url_with_credentials",
    "without_password",
    "write_secret_file",
]

#: The environment variable naming a 0600 file that holds an engine's Redis URL.
URL_FILE_ENV = "NAUTILUS_REDIS_URL_FILE"


class CredentialsError(MessageBusError):
    """A credentials file or directory is missing, unreadable or readable by others."""


def new_password() -> str:
    """A random password: 256 bits, URL-safe, so it needs no quoting anywhere."""
    return secrets.token_urlsafe(32)


def write_secret_file(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by the owner only (0600), replacing it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def read_secret_file(path: Path) -> str:
    """The first line of a secret file; CredentialsError if missing or readable by others."""
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as exc:
        raise CredentialsError(f"cannot read credentials file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(
            f"credentials file {path} is readable by other users: chmod 600 {path}"
        )
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise CredentialsError(f"credentials file {path} is empty")
    return lines[0]


def read_passwords(directory: Path, users: Iterable[str]) -> dict[str, str]:
    """The passwords of `users` found in `directory` (users without a file are left out)."""
    found = {}
    for user in users:
        path = directory / user
        if path.exists():
            found[user] = read_secret_file(path)
    return found


def ensure_passwords(directory: Path, users: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Every user's password from `directory`, generating (and writing, 0600) missing ones.

    Returns the passwords and the users whose password was new.
    """
    users = list(users)
    passwords = read_passwords(directory, users)
    created = []
    for user in users:
        if user not in passwords:
            passwords[user] = new_password()
            write_secret_file(directory / user, passwords[user] + "\n")
            created.append(user)
    return passwords, created


def without_password(url: str) -> str:
    """`url` with its user name and password removed (the server's address only)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=host))


def url_with_credentials(url: str, username: str | None, password: str | None) -> str:
    """`url`'s server with this identity; keep the result in memory or in a 0600 file only."""
    parts = urlsplit(without_password(url))
    identity = ""
    if username or password:
        identity = quote(username or "", safe="")
        if password:
            identity += ":" + quote(password, safe="")
        identity += "@"
    return urlunsplit(parts._replace(netloc=identity + parts.netloc))
