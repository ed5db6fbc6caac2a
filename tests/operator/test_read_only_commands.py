"""`tail`, `stats`, `dlq list|show` and `schema list|show` only read (docs/operations.md): the
server's whole keyspace is the same before and after each, down to every entry, group, pending
entry and consumer, on a bus with traffic, pending entries, dead letters and registered schemas."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from nautilus.runtime.schema.registry import SchemaRegistry
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert

from .conftest import VPIN, RunCli, consume_once, publish_alerts


def fail(delivery: object) -> None:
    raise RuntimeError("handler bug")


def snapshot(connection: redis.Redis) -> dict[bytes, Any]:
    """Every key with its type and value; streams with their entries, groups and consumers
    (idle times left out: they move by themselves)."""
    state: dict[bytes, Any] = {}
    for key in sorted(connection.scan_iter(count=1000)):
        kind = connection.type(key)
        if kind == b"stream":
            info = connection.xinfo_stream(key)
            groups = []
            for group in connection.xinfo_groups(key):
                consumers = [
                    (c["name"], c["pending"])
                    for c in connection.xinfo_consumers(key, group["name"])
                ]
                pending = connection.xpending_range(key, group["name"], "-", "+", 10_000)
                groups.append(
                    (
                        group["name"],
                        group["last-delivered-id"],
                        group.get("entries-read"),
                        sorted(consumers),
                        [(p["message_id"], p["consumer"], p["times_delivered"]) for p in pending],
                    )
                )
            state[key] = (
                kind,
                connection.xrange(key),
                info["last-generated-id"],
                info.get("entries-added"),
                groups,
            )
        else:
            state[key] = (kind, connection.dump(key))
    return state


@pytest.fixture
def busy_bus(redis_url: str) -> Iterator[redis.Redis]:
    """Traffic on VPIN, a group with pending entries, dead letters and a registered schema."""
    asyncio.run(publish_alerts(redis_url, 6))
    asyncio.run(consume_once(redis_url, "risk", read_count=2, handler=fail))
    asyncio.run(consume_once(redis_url, "analytics", handler=fail, max_deliveries=1))

    async def register() -> None:
        connection = redis.asyncio.Redis.from_url(redis_url)
        await SchemaRegistry(connection).register(ToxicityAlert.DESCRIPTOR, producer="vpin")
        await connection.aclose()

    asyncio.run(register())
    with redis.Redis.from_url(redis_url) as connection:
        yield connection


def first_dead_letter(connection: redis.Redis) -> str:
    ((letter_id, _),) = connection.xrange("{" + VPIN + "}:dead-letter", count=1)
    return str(letter_id.decode())


READ_ONLY = [
    pytest.param(("tail", VPIN), id="tail"),
    pytest.param(("tail", VPIN, "--group", "risk", "--json"), id="tail-group"),
    pytest.param(("stats", "--interval", "0"), id="stats"),
    pytest.param(("stats", VPIN, "--interval", "0.01", "--json"), id="stats-rates"),
    pytest.param(("dlq", "list", VPIN), id="dlq-list"),
    pytest.param(("dlq", "show", VPIN, "{dead_letter}"), id="dlq-show"),
    pytest.param(("schema", "list"), id="schema-list"),
    pytest.param(("schema", "show", "nautilus.vpin.v1.ToxicityAlert"), id="schema-show"),
]


@pytest.mark.parametrize("argv", READ_ONLY)
def test_a_read_only_command_leaves_the_keyspace_unchanged(
    busy_bus: redis.Redis, run_cli: RunCli, argv: tuple[str, ...]
) -> None:
    before = snapshot(busy_bus)
    assert any(kind == b"stream" for kind, *_ in before.values())
    argv = tuple(a.replace("{dead_letter}", first_dead_letter(busy_bus)) for a in argv)

    result = run_cli(*argv)

    assert result.status == 0, result.err
    assert snapshot(busy_bus) == before
