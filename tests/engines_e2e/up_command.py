"""Running `nautilus up` as a user does: the real command in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["nautilus_up"]

#: Bounds a hang; the runs themselves take a fraction of it.
_TIMEOUT_S = 240


def nautilus_up(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`nautilus up ARGS` run in `cwd` (where it keeps `.nautilus/`), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "nautilus.cli.main", "up", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
