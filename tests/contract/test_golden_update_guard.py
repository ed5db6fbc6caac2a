"""`UPDATE_GOLDEN=1` rewrites the golden files; under CI it is refused, so CI can never pass by
writing what it compares."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
GOLDEN_TESTS = "tests/contract/test_golden.py"


def _golden_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((HERE / "golden").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_golden_updates_are_refused_under_ci() -> None:
    before = _golden_digest()
    environment = {**os.environ, "CI": "true", "UPDATE_GOLDEN": "1"}

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/contract/test_golden.py",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode != 0
    assert "UPDATE_GOLDEN=1 is refused under CI" in result.stdout + result.stderr
    assert _golden_digest() == before
