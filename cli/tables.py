"""Tables for terminal output: drawn by rich on a terminal (fitted to its width), plain aligned
text otherwise (pipes, files, scripts), so what a script parses never carries colour or boxes."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["Cell", "format_duration_ms", "plain_table", "render_table"]

Cell = str | int | float | None


def _text(cell: Cell) -> str:
    if cell is None:
        return "-"
    if isinstance(cell, float):
        return f"{cell:.1f}"
    return str(cell)


def format_duration_ms(ms: int) -> str:
    """A short human duration: 850ms, 12.3s, 4m05s, 2h03m."""
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    seconds = ms // 1000
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """The table for stdout: rich on a terminal, plain text otherwise (see `plain_table`)."""
    if sys.stdout.isatty():
        return _rich_table(headers, rows)
    return plain_table(headers, rows)


def _numeric(rows: Sequence[Sequence[Cell]], column: int) -> bool:
    return bool(rows) and all(
        isinstance(row[column], int | float) or row[column] is None for row in rows
    )


def _rich_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for index, header in enumerate(headers):
        table.add_column(
            header.upper(),
            justify="right" if _numeric(rows, index) else "left",
            overflow="ellipsis",
        )
    for row in rows:
        table.add_row(*(_text(cell) for cell in row))
    console = Console(width=shutil.get_terminal_size().columns, highlight=False)
    with console.capture() as captured:
        console.print(table)
    return captured.get().rstrip("\n")


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """Columns padded to their widest cell; numeric columns right-aligned; None shown as "-"."""
    texts = [[_text(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in texts:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    numeric = [_numeric(rows, i) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(padded).rstrip()

    out = [line([h.upper() for h in headers])]
    out += [line(row) for row in texts]
    return "\n".join(out)
