"""One way to make text safe to show: passwords in Redis URLs are replaced by `***`.

Every message, repr and log line that may carry a server URL goes through `redacted`, so a
password given as `redis://user:secret@host` never reaches a terminal, a log file or a report.
`RedactingFilter` applies it to every record of a logger.
"""

from __future__ import annotations

import logging
import re

__all__ = ["REDACTED", "RedactingFilter", "redacted"]

REDACTED = "***"

# scheme://[user]:password@ : the password is everything between the first ':' after the user
# name and the last '@' before the host (passwords may contain '@' and ':').
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<password>[^\s/]*)@"
)


def redacted(text: str) -> str:
    """`text` with the password of every URL in it replaced by `***`."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)


class RedactingFilter(logging.Filter):
    """Redacts each record's message (arguments formatted first) before it is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redacted(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
