"""A password never stays on a `nautilus` command line: `--redis-url` with a password is moved to
the environment by running the program again, which then uses it as given."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from nautilus.cli.argv_secrets import split_secret_url
from nautilus.runtime.credentials import new_password
from nautilus.runtime.server import EmbeddedServer

SECRET_URL = "redis://:s3cret-pass@127.0.0.1:6390/0"
MARKETDATA = "nautilus-marketdata-streams"
_DEADLINE_S = 60.0


@pytest.mark.parametrize(
    "argv",
    [
        ["up", "--redis-url", SECRET_URL, "--quiet"],
        ["up", f"--redis-url={SECRET_URL}", "--quiet"],
        ["up", "--redis", SECRET_URL, "--quiet"],
    ],
    ids=["separate", "equals", "abbreviated"],
)
def test_a_url_with_a_password_is_taken_off_the_command_line(argv: list[str]) -> None:
    assert split_secret_url(argv) == (["up", "--quiet"], SECRET_URL)


def test_a_url_without_a_password_stays() -> None:
    argv = ["tail", MARKETDATA, "--redis-url", "redis://reader@127.0.0.1:6390/0", "--count", "3"]

    assert split_secret_url(argv) == (argv, None)


def test_the_last_of_several_urls_is_the_one_used() -> None:
    first, last = SECRET_URL, SECRET_URL.replace("s3cret", "other")

    assert split_secret_url(["up", "--redis-url", first, "--redis-url", last]) == (["up"], last)


@pytest.fixture
def password_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    password = new_password()
    acl = tmp_path / "users.acl"
    acl.write_text(f"user default on >{password} ~* &* +@all\n")
    server = EmbeddedServer(acl_file=acl)
    server.start()
    yield server.url.replace("redis://", f"redis://:{password}@"), password
    server.close()


def _following(url: str) -> bool:
    """Some client of the server is blocked in XREAD: a tail that got in and follows."""
    with redis.Redis.from_url(url) as admin:
        return any(client.get("cmd") == "xread" for client in admin.client_list())


def test_a_following_tail_runs_with_the_password_off_its_command_line(
    password_server: tuple[str, str], tmp_path: Path
) -> None:
    url, password = password_server
    tail = subprocess.Popen(
        [sys.executable, "-m", "nautilus.cli.main", "tail", MARKETDATA, "--follow",
         "--redis-url", url],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + _DEADLINE_S
        while not _following(url):
            assert tail.poll() is None, tail.stderr.read() if tail.stderr else ""
            assert time.monotonic() < deadline, "the tail never followed the stream"
            time.sleep(0.05)
        argv = Path(f"/proc/{tail.pid}/cmdline").read_bytes().decode()
        tail.send_signal(signal.SIGINT)
        out, err = tail.communicate(timeout=_DEADLINE_S)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    assert "tail\0nautilus-marketdata-streams\0--follow" in argv
    assert password not in argv
    assert "--redis-url" not in argv
    assert tail.returncode == 0, err
    assert password not in out + err
