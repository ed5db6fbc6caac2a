"""The admin layer maps server errors once: unreachable (retry) apart from rejected (surface)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import redis

from nautilus.runtime import EmbeddedServer
from nautilus.runtime.admin import RedisAdmin, is_transient_reply
from nautilus.runtime.dead_letter import read_dead_letters
from nautilus.runtime.errors import ServerRejectedError, ServerUnreachableError, TransportError
from nautilus.runtime.lanes import dead_letter_stream
from nautilus.runtime.stream_info import lane_info

LANE = "nautilus-vpin-streams"
ROOT = Path(__file__).resolve().parents[2]


async def test_a_stopped_server_is_unreachable(private_server: EmbeddedServer) -> None:
    admin = RedisAdmin.from_url(private_server.url, connect_timeout_s=0.5)
    private_server.stop()
    try:
        with pytest.raises(ServerUnreachableError) as raised:
            await admin.groups(LANE)
    finally:
        await admin.close()
    assert raised.value.operation == "XINFO GROUPS"


async def test_a_wrong_type_key_is_rejected_with_the_servers_reply(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as connection:
        connection.set(LANE, "not a stream")
    admin = RedisAdmin.from_url(redis_url)
    try:
        with pytest.raises(ServerRejectedError) as raised:
            await admin.groups(LANE)
    finally:
        await admin.close()
    assert raised.value.reply.startswith("WRONGTYPE")


async def test_both_kinds_are_transport_errors(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as connection:
        connection.set(dead_letter_stream(LANE), "not a stream")
    admin = RedisAdmin.from_url(redis_url)
    try:
        with pytest.raises(TransportError):
            await read_dead_letters(admin, LANE)
    finally:
        await admin.close()


async def test_a_missing_key_is_an_empty_answer_not_an_error(redis_url: str) -> None:
    admin = RedisAdmin.from_url(redis_url)
    try:
        assert await admin.groups(LANE) == []
        assert await admin.stream_info(LANE) is None
        assert not (await lane_info(admin, LANE)).exists
    finally:
        await admin.close()


async def test_a_client_given_to_the_admin_stays_open(redis_url: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    await RedisAdmin.of(client).close()
    assert await client.ping()
    await client.aclose()


@pytest.mark.parametrize(
    "reply",
    [
        "LOADING Redis is loading the dataset in memory",
        "BUSY Redis is busy running a script",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "MASTERDOWN Link with MASTER is down",
        "READONLY You can't write against a read only replica.",
        "CLUSTERDOWN The cluster is down",
    ],
)
def test_not_now_replies_are_transient(reply: str) -> None:
    assert is_transient_reply(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "WRONGTYPE Operation against a key holding the wrong kind of value",
        "NOPERM User risk has no permissions to run the 'xadd' command",
        "OOM command not allowed when used memory > 'maxmemory'.",
        "ERR syntax error",
        "NOGROUP No such key 'x' or consumer group 'y'",
    ],
)
def test_refusals_are_not_transient(reply: str) -> None:
    assert not is_transient_reply(reply)


def _redis_imports(folder: Path) -> list[str]:
    """`path:line` of every import of redis-py in the modules under `folder`."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            if any(name == "redis" or name.startswith("redis.") for name in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


@pytest.mark.parametrize("folder", ["cli", "engines"])
def test_operator_commands_and_engines_reach_redis_only_through_the_runtime(folder: str) -> None:
    assert _redis_imports(ROOT / folder) == []


async def test_creating_an_existing_group_leaves_its_position_alone(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as connection:
        newest = connection.xadd(LANE, {"t": "x"}).decode()
    admin = RedisAdmin.from_url(redis_url)
    try:
        created = await admin.create_group(LANE, "observer:desk", "$")
        created_again = await admin.create_group(LANE, "observer:desk", "0")
        groups = await admin.groups(LANE)
    finally:
        await admin.close()

    assert (created, created_again) == (True, False)
    assert [g["last-delivered-id"].decode() for g in groups] == [newest]
