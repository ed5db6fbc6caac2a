"""Argument types and the parser class: bad input is refused before any I/O, in one line.

Every `type=` here raises `argparse.ArgumentTypeError` with a message an operator can act on;
`CommandParser` turns any parsing error into `nautilus <command>: error: <message>` on stderr and
exit status 2, without the usage block (`--help` shows that).
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from typing import NoReturn
from urllib.parse import urlsplit

from nautilus.contract import bus_message_classes

__all__ = [
    "CommandParser",
    "entry_id",
    "entry_id_or_time",
    "message_type",
    "non_negative_float",
    "non_negative_int",
    "positive_int",
    "redis_url",
]

_ENTRY_ID = re.compile(r"\d{1,20}(-\d{1,20})?")
_URL_SCHEMES = ("redis", "rediss", "unix", "valkey", "valkeys")
_MAX_PORT = 65_535


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An integer of at least 0."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def entry_id(text: str) -> str:
    """A stream entry id, `MS-SEQ` or `MS` (as XRANGE takes them)."""
    if not _ENTRY_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"not a stream entry id: {text!r} (ids look like 1764077400000-0)"
        )
    return text


def entry_id_or_time(text: str) -> str:
    """An entry id, or an ISO 8601 time (UTC unless it says otherwise) turned into one."""
    if _ENTRY_ID.fullmatch(text):
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"neither an entry id nor an ISO 8601 time: {text!r} "
            "(e.g. 1764077400000-0 or 2025-11-25T13:30:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{max(int(moment.timestamp() * 1000), 0)}-0"


def redis_url(text: str) -> str:
    """A Redis URL: redis://, rediss:// or unix://, with a numeric port if any."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"malformed Redis URL {_shown(text)!r}: {exc}") from None
    if parts.scheme not in _URL_SCHEMES:
        raise argparse.ArgumentTypeError(
            f"malformed Redis URL {_shown(text)!r}: scheme must be one of "
            f"{', '.join(s + '://' for s in _URL_SCHEMES)}"
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise argparse.ArgumentTypeError(f"malformed Redis URL {_shown(text)!r}: no host")
    if port is not None and not 0 < port <= _MAX_PORT:
        raise argparse.ArgumentTypeError(f"malformed Redis URL {_shown(text)!r}: bad port")
    return text


def _shown(url: str) -> str:
    from nautilus.cli.server_url import redacted

    return redacted(url)


def message_type(text: str) -> str:
    """A contract message type, by full name or by its short name (ToxicityAlert)."""
    names = bus_message_classes()
    if text in names:
        return text
    matches = [name for name in names if name.rsplit(".", 1)[-1] == text]
    if len(matches) == 1:
        return matches[0]
    raise argparse.ArgumentTypeError(
        f"unknown message type {text!r}" + (f" (which of {', '.join(matches)}?)" if matches else "")
    )
