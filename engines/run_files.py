"""Files that one process writes into the run directory and another polls for.

The launcher, the WebSocket engine's peer watch and the benchmarks wait for `<engine>.ready.json`
to appear and then read it. A plain `write_text` creates the file empty and fills it after, so a
reader that polls at the wrong moment finds an empty or half-written file and fails to parse it.
Writing to a temporary name in the same directory and renaming it into place makes the file
appear whole or not at all (rename is atomic within one file system).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_run_file"]


def write_run_file(path: Path, text: str) -> None:
    """Make `path` hold `text`, appearing (or being replaced) in one step for any reader."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
