"""Which server a command talks to when several are given: `--redis-url`, then REDIS_URL, then
`.nautilus/server.url` (docs/operations.md, "Which server"), for every server command.

Each source names a different server: the one expected to win is the session server, every other
one an address that refuses connections (a port this test holds bound without listening), so the
exit status shows which source the command used, and the error shows the URL it tried.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nautilus.cli.server_url import SERVER_URL_FILE

from .conftest import VPIN, RunCli

#: Every command that reads the server, in a form that changes nothing on it.
READ_ONLY_COMMANDS = [
    pytest.param(("tail", VPIN), id="tail"),
    pytest.param(("stats", VPIN, "--interval", "0"), id="stats"),
    pytest.param(("dlq", "list", VPIN), id="dlq-list"),
    pytest.param(("schema", "list"), id="schema-list"),
    pytest.param(("schema", "show", "nautilus.vpin.v1.ToxicityAlert"), id="schema-show"),
    pytest.param(("trim", VPIN, "--max-len", "10", "--dry-run"), id="trim-dry-run"),
]
PASSWORD = "s3cret-pw"


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """A URL with a password whose port is held by this test and refuses every connection."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        yield f"redis://:{PASSWORD}@127.0.0.1:{port}/0"


GiveSources = Callable[..., None]


@pytest.fixture
def give_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> GiveSources:
    """Set REDIS_URL and write `.nautilus/server.url` in the command's working directory."""

    def give(*, environment: str | None = None, url_file: str | None = None) -> None:
        if environment is not None:
            monkeypatch.setenv("REDIS_URL", environment)
        if url_file is not None:
            (tmp_path / SERVER_URL_FILE).parent.mkdir(exist_ok=True)
            (tmp_path / SERVER_URL_FILE).write_text(url_file + "\n")

    return give


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_the_flag_wins_over_the_environment_and_the_url_file(
    run_cli: RunCli,
    redis_url: str,
    refusing_url: str,
    give_sources: GiveSources,
    command: tuple[str, ...],
) -> None:
    give_sources(environment=refusing_url, url_file=refusing_url)

    result = run_cli(*command, server=redis_url)

    assert result.status == 0, result.err


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_the_environment_wins_over_the_url_file(
    run_cli: RunCli,
    redis_url: str,
    refusing_url: str,
    give_sources: GiveSources,
    command: tuple[str, ...],
) -> None:
    give_sources(environment=redis_url, url_file=refusing_url)

    result = run_cli(*command, server=None)

    assert result.status == 0, result.err


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_the_winning_source_is_the_one_tried_and_its_password_is_hidden(
    run_cli: RunCli,
    redis_url: str,
    refusing_url: str,
    give_sources: GiveSources,
    command: tuple[str, ...],
) -> None:
    give_sources(environment=redis_url, url_file=redis_url)

    result = run_cli(*command, server=refusing_url)

    assert result.status == 1
    assert f"cannot reach Redis at {refusing_url.replace(PASSWORD, '***')}" in result.err
    assert PASSWORD not in result.err + result.out


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_the_url_file_is_used_when_nothing_else_is_given(
    run_cli: RunCli, refusing_url: str, give_sources: GiveSources, command: tuple[str, ...]
) -> None:
    give_sources(url_file=refusing_url)

    result = run_cli(*command, server=None)

    assert result.status == 1
    assert PASSWORD not in result.err + result.out
