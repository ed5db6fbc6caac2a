"""`nautilus codegen`, and the installed `nautilus` command end to end in a subprocess."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from nautilus.cli.main import main

from .conftest import VPIN, publish_alerts

REPO = Path(__file__).parents[2]


def test_codegen_check_passes_on_the_committed_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)  # as `make codegen` runs it: the formatters read the project's config
    status = main(
        ["codegen", "--check", "--schemas", str(REPO / "schemas"), "--out", str(REPO / "generated")]
    )

    assert status == 0
    assert "0 files out of date" in capsys.readouterr().out


def test_the_command_runs_as_a_program_against_a_real_server(redis_url: str) -> None:
    asyncio.run(publish_alerts(redis_url, 3))

    done = subprocess.run(
        [sys.executable, "-m", "nautilus.cli.main", "tail", VPIN, "--count", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": redis_url},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "nautilus.vpin.v1.ToxicityAlert" in done.stdout
    assert '"bucketIndex":"3"' in done.stdout
