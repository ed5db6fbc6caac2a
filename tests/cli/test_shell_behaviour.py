"""The command as a shell sees it: quiet on a closed pipe, and completion through argcomplete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

NAUTILUS = str(Path(sys.executable).parent / "nautilus")
VPIN = "nautilus-vpin-streams"


@pytest.mark.slow
def test_a_closed_pipe_ends_the_command_quietly(redis_url: str, tmp_path: Path) -> None:
    with redis.Redis.from_url(redis_url) as connection, connection.pipeline() as pipe:
        for index in range(3000):
            pipe.xadd(VPIN, {"garbage": str(index)})
        pipe.execute()

    result = subprocess.run(
        ["bash", "-c", f'"$0" tail {VPIN} --count 3000 --redis-url {redis_url} | head -1; '
         'exit "${PIPESTATUS[0]}"', NAUTILUS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip

    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == ""
    assert result.returncode == 0


def _complete(line: str, tmp_path: Path) -> list[str]:
    out = tmp_path / "completions"
    environment = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_IFS": "\n",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
    }
    subprocess.run(
        [NAUTILUS], env=environment, cwd=tmp_path, capture_output=True, timeout=120, check=False
    )
    return out.read_text().split()


def test_completion_offers_the_commands(tmp_path: Path) -> None:
    assert {"group", "tail", "dlq"} <= set(_complete("nautilus ", tmp_path))


def test_completion_offers_the_actions_of_a_command(tmp_path: Path) -> None:
    assert set(_complete("nautilus group ", tmp_path)) >= {
        "list",
        "setid",
        "delconsumer",
        "destroy",
    }
