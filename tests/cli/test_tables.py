"""Tables: rich and fitted to the terminal on a TTY, plain aligned text in a pipe."""

from __future__ import annotations

import re
import sys

import pytest

from nautilus.cli.tables import render_table

ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEADERS = ["stream", "lane", "length", "detail"]
ROWS = [
    ["nautilus-marketdata-streams", "bulk", 1_000_000, "x" * 200],
    ["nautilus-vpin-streams", "urgent", 12, None],
]


def test_on_a_terminal_the_table_fits_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "70")

    lines = ANSI.sub("", render_table(HEADERS, ROWS)).splitlines()

    assert max(len(line) for line in lines) <= 70
    assert "STREAM" in lines[0]
    assert lines[2].startswith("nautilus-marketdata-str")


def test_in_a_pipe_the_table_is_plain_and_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)

    lines = render_table(HEADERS, ROWS).splitlines()

    assert lines[0].split() == ["STREAM", "LANE", "LENGTH", "DETAIL"]
    assert lines[1].endswith("x" * 200)
    assert lines[2].split() == ["nautilus-vpin-streams", "urgent", "12", "-"]
