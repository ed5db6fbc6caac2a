"""Server selection and clear errors: unknown stream, server down, bad URL, no server given."""

from __future__ import annotations

from pathlib import Path

import pytest

from nautilus.cli.server_url import SERVER_URL_FILE
from nautilus.runtime.server import EmbeddedServer

from .conftest import VPIN, RunCli


def test_unknown_stream_lists_the_contracts_streams(run_cli: RunCli) -> None:
    result = run_cli("tail", "nautilus-vpin-stream")

    assert result.status == 2
    assert result.err.startswith("nautilus tail: error: unknown stream 'nautilus-vpin-stream'")
    assert "nautilus-marketdata-streams, nautilus-ml-streams" in result.err
    assert "Traceback" not in result.err


def test_tail_of_a_dead_letter_key_points_to_dlq(run_cli: RunCli) -> None:
    result = run_cli("tail", "{" + VPIN + "}:dead-letter")

    assert result.status == 2
    assert "(dead letters: `nautilus dlq`)" in result.err


def test_dlq_accepts_the_dead_letter_key_for_its_stream(run_cli: RunCli) -> None:
    result = run_cli("dlq", "list", "{" + VPIN + "}:dead-letter")

    assert result.out.strip() == f"0 dead letters in {{{VPIN}}}:dead-letter"


def test_a_stopped_server_is_reported_with_its_url(
    run_cli: RunCli, private_server: EmbeddedServer
) -> None:
    private_server.stop()

    result = run_cli("stats", server=private_server.url)

    assert result.status == 1
    assert f"cannot reach Redis at {private_server.url}" in result.err
    assert len(result.err.splitlines()) == 1


@pytest.mark.parametrize("url", ["localhost:6379", "redis://localhost:notaport/0"])
def test_a_malformed_url_is_a_one_line_usage_error(run_cli: RunCli, url: str) -> None:
    result = run_cli("dlq", "list", VPIN, server=url)

    assert result.status == 2
    assert result.err.startswith(f"nautilus dlq list: error: malformed Redis URL {url!r}")
    assert len(result.err.splitlines()) == 1


def test_without_any_server_the_error_says_how_to_give_one(run_cli: RunCli) -> None:
    result = run_cli("stats", server=None)

    assert result.status == 2
    assert "pass --redis-url URL, set REDIS_URL, or start the local bus with `nautilus up`" in (
        result.err
    )


def test_redis_url_from_the_environment_is_used(
    run_cli: RunCli, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)

    assert run_cli("stats", "--interval", "0", server=None).status == 0


def test_the_url_file_written_by_nautilus_up_is_the_last_resort(
    run_cli: RunCli, redis_url: str, tmp_path: Path
) -> None:
    (tmp_path / SERVER_URL_FILE).parent.mkdir()
    (tmp_path / SERVER_URL_FILE).write_text(redis_url + "\n")

    assert run_cli("stats", "--interval", "0", server=None).status == 0


def test_passwords_are_not_printed(run_cli: RunCli, private_server: EmbeddedServer) -> None:
    private_server.stop()
    url = f"redis://:s3cret@127.0.0.1:{private_server.port}/0"

    result = run_cli("stats", server=url)

    assert "s3cret" not in result.err
    assert f"redis://:***@127.0.0.1:{private_server.port}/0" in result.err
