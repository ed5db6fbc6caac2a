"""The promises of the operator-facing docs, listed from their text.

A promise is a table row, a numbered rule or a bullet point under a `##`/`###` heading of
docs/wire-format.md or docs/operations.md. Each gets an id made from the document, the heading and
the row's key (its first cell) or the first words of the rule, for example
`wire-format#dead-letter-entries/dl.reason` or
`operations#which-server/the-redis_url-environment-variable-what-the`. Rewording the start of a
promise, or adding one, changes the set of ids, so tests/docs/test_docs_promises.py notices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DOCS", "Promise", "promises"]

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "wire-format.md", ROOT / "docs" / "operations.md"]

_HEADING = re.compile(r"^(#{2,3})\s+(.*)$")
_NUMBERED = re.compile(r"^\d+\.\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_SEPARATOR = re.compile(r"^\|[\s:|-]+\|$")
#: Words of a command row's first cell up to its first argument (`STREAM`, `[--x]`, `(`, ...).
_COMMAND_WORD = re.compile(r"^[a-z][a-z-]*$")
_SLUG_WORDS = 6


@dataclass(frozen=True)
class Promise:
    id: str
    text: str


def _slug(text: str, words: int | None = None) -> str:
    plain = re.sub(r"[`*]", "", text).lower()
    tokens = re.findall(r"[a-z0-9_.:<>-]+", plain)
    return "-".join(tokens[:words] if words else tokens)


def _row_key(first_cell: str) -> str:
    cell = first_cell.strip().strip("`").strip()
    if cell.startswith("nautilus "):
        words = []
        for word in cell.split():
            if not _COMMAND_WORD.match(word) and word != "nautilus":
                break
            words.append(word)
        return " ".join(words)
    return cell.replace("`", "")


def promises(path: Path) -> list[Promise]:
    """Every table row, numbered rule, bullet and paragraph of `path`, in order."""
    document = path.stem
    section = "intro"
    found: list[Promise] = []
    table_header_next = True
    in_code = False
    in_block = False  # inside a paragraph or list item that started on an earlier line
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("```"):
            in_code = not in_code
            in_block = False
            continue
        if in_code:
            continue
        if not line:
            table_header_next, in_block = True, False
            continue
        heading = _HEADING.match(line)
        if heading:
            section = _slug(heading.group(2))
            table_header_next, in_block = True, False
            continue
        if raw.startswith("# "):
            continue  # the page title
        if line.startswith("|"):
            in_block = False
            if _SEPARATOR.match(line):
                continue
            if table_header_next:  # the first row of a table names its columns
                table_header_next = False
                continue
            cells = line.strip("|").split("|")
            found.append(Promise(f"{document}#{section}/{_row_key(cells[0])}", line))
            continue
        item = _NUMBERED.match(line) or _BULLET.match(line)
        if item:
            found.append(Promise(f"{document}#{section}/{_slug(item.group(1), _SLUG_WORDS)}", line))
            in_block = True
            continue
        if not in_block:  # the first line of a paragraph
            found.append(Promise(f"{document}#{section}/{_slug(line, _SLUG_WORDS)}", line))
            in_block = True
    return found
