"""Editing copies of .proto files in tests without assuming what the schemas hold today.

A schema author adds fields and types all the time; a test that inserts `string note = 12;` after
a given line breaks as soon as 12 is taken or the line moves. These helpers find the message by
name and pick a field number that is free in it.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["add_field", "free_field_number", "message_body", "replace_in_message"]

_NUMBER = re.compile(r"=\s*(\d+)\s*[;\[]")
_RESERVED = re.compile(r"reserved\s+([^;]*);")


def _block(text: str, message: str) -> tuple[int, int]:
    """Start of `message NAME {` and the index of its closing brace."""
    match = re.search(rf"^\s*message {re.escape(message)} {{", text, re.MULTILINE)
    assert match is not None, f"message {message} not found"
    depth = 0
    for index in range(match.end() - 1, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return match.start(), index
    raise AssertionError(f"message {message} is not closed")


def message_body(proto: Path, message: str) -> str:
    text = proto.read_text()
    start, end = _block(text, message)
    return text[start:end]


def free_field_number(proto: Path, message: str) -> int:
    """One more than every number used or reserved in the message (nested types included)."""
    body = message_body(proto, message)
    used = [int(n) for n in _NUMBER.findall(body)]
    for reserved in _RESERVED.findall(body):
        used += [int(n) for n in re.findall(r"\d+", reserved)]
    return max(used, default=0) + 1


def add_field(proto: Path, message: str, declaration: str) -> int:
    """Append `declaration = N;` (e.g. `string note`) to `message`, N a free number; return N."""
    number = free_field_number(proto, message)
    text = proto.read_text()
    _, end = _block(text, message)
    proto.write_text(f"{text[:end]}  {declaration} = {number};\n{text[end:]}")
    return number


def replace_in_message(proto: Path, message: str, old: str, new: str) -> None:
    """Replace the first `old` inside `message`'s body; fails if it is not there."""
    text = proto.read_text()
    start, end = _block(text, message)
    body = text[start:end]
    assert old in body, f"{old!r} not in message {message}"
    proto.write_text(text[:start] + body.replace(old, new, 1) + text[end:])
