"""Registry writes live in one module, so access control has one place to guard."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITES = re.compile(
    r"\b(?:pipe|redis|_redis|client|connection)\.(?:hset|rpush|sadd|srem|lrem|delete|set|hdel)\("
)


def test_only_registry_writes_issues_write_commands() -> None:
    writers = [
        path.relative_to(ROOT).as_posix()
        for path in [
            *(ROOT / "runtime" / "schema").glob("*.py"),
            *(ROOT / "cli").glob("schema*.py"),
        ]
        if WRITES.search(path.read_text())
    ]
    assert writers == ["runtime/schema/registry_writes.py"]
