"""CLI fixtures: the `nautilus` command run in-process, with no ambient server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nautilus.cli.main import main


@dataclass(frozen=True)
class CliResult:
    status: int
    out: str
    err: str


RunCli = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def no_ambient_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No REDIS_URL and a working directory without `.nautilus/server.url`."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """`nautilus ARGS...` in this process: exit status (argparse's exits included) and output."""

    def run(*argv: str) -> CliResult:
        capsys.readouterr()
        try:
            status = main(list(argv))
        except SystemExit as exc:
            status = int(exc.code or 0)
        out, err = capsys.readouterr()
        return CliResult(status, out, err)

    return run
