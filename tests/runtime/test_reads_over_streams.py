"""A read over the lanes of several streams, on one server: one XREADGROUP names them all.

A single server holds every key, so the transport reads all the lanes of a consumer in one
command, blocking or not (on a cluster each stream is read by a command of its own: see
tests/cluster). What the server counted (`INFO commandstats`) is the evidence; entries of both
streams come back, in the order of the keys asked for.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis

from nautilus.runtime.lanes import priority_lane
from nautilus.runtime.transport.redis import RedisTransport

MARKETDATA = "nautilus-marketdata-streams"
VPIN = "nautilus-vpin-streams"
GROUP = "risk"
_DEADLINE_S = 30.0  # bounds a hang; asserts no timing


def _calls(redis_url: str) -> dict[str, int]:
    """Calls per command so far, as the server counts them."""
    with redis.Redis.from_url(redis_url) as connection:
        stats: Any = connection.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(entry["calls"]) for name, entry in stats.items()}


def _spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        name: calls - before.get(name, 0)
        for name, calls in after.items()
        if calls > before.get(name, 0)
    }


def _blocked_clients(redis_url: str) -> int:
    with redis.Redis.from_url(redis_url) as connection:
        clients: Any = connection.info("clients")
    return int(clients["blocked_clients"])


async def _transport_with_groups(redis_url: str, keys: list[str]) -> RedisTransport:
    transport = RedisTransport(redis_url)
    for key in keys:
        await transport.ensure_group(key, GROUP)
    return transport


async def test_a_read_over_two_streams_is_one_command_returning_both(redis_url: str) -> None:
    keys = [MARKETDATA, VPIN]
    transport = await _transport_with_groups(redis_url, keys)
    await transport.add_one(VPIN, (b"n", b"2"))
    await transport.add_one(MARKETDATA, (b"n", b"1"))
    before = _calls(redis_url)

    batches = await transport.read_group(GROUP, "risk-1", keys, count=10, block_ms=None)

    spent = _spent(before, _calls(redis_url))
    await transport.close()
    assert [(key, [fields for _, fields in entries]) for key, entries in batches] == [
        (MARKETDATA, [{b"n": b"1"}]),
        (VPIN, [{b"n": b"2"}]),
    ]
    assert spent.get("xreadgroup") == 1


async def test_a_blocking_read_over_two_streams_returns_what_the_second_one_gets(
    redis_url: str,
) -> None:
    keys = [priority_lane(MARKETDATA), priority_lane(VPIN)]
    transport = await _transport_with_groups(redis_url, keys)
    before = _calls(redis_url)
    reading = asyncio.ensure_future(
        transport.read_group(GROUP, "risk-1", keys, count=10, block_ms=60_000)
    )
    deadline = time.monotonic() + _DEADLINE_S
    while not _blocked_clients(redis_url):
        assert time.monotonic() < deadline, "the read never blocked"
        await asyncio.sleep(0.01)

    with redis.Redis.from_url(redis_url) as connection:
        connection.xadd(priority_lane(VPIN), {"n": "critical"})
    batches = await asyncio.wait_for(reading, _DEADLINE_S)

    spent = _spent(before, _calls(redis_url))
    await transport.close()
    assert [(key, [fields for _, fields in entries]) for key, entries in batches] == [
        (priority_lane(VPIN), [{b"n": b"critical"}]),
    ]
    assert spent.get("xreadgroup") == 1
    assert "client|unblock" not in spent
