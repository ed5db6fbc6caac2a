"""`nautilus dlq replay` gives each dead letter back to the group that gave up on it, and to no
other, once: two entries dead-lettered by three groups are six deliveries again, not eighteen."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import redis

from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.runtime.conftest import toxicity_alert

from .conftest import RunCli

VPIN = "nautilus-vpin-streams"
GROUPS = ("risk", "analytics", "strategy")


def _client(redis_url: str, engine: str) -> UniversalMessageBusClient:
    return UniversalMessageBusClient(
        MessageBusConfig(
            engine=engine,
            redis_url=redis_url,
            consumer_name=f"{engine}-1",
            trim_interval_ms=0,
            max_deliveries=1,
            reclaim_idle_ms=60_000,
        )
    )


async def _publish_alerts(redis_url: str, count: int) -> None:
    async with _client(redis_url, "vpin") as vpin:
        for bucket in range(count):
            await vpin.publish(toxicity_alert(bucket))
        await vpin.flush()


async def _consume(redis_url: str, engine: str, *, fail: bool) -> list[int]:
    """One poll of `engine`'s group; the buckets its handler saw (it raises when `fail`)."""
    seen: list[int] = []

    def handle(delivery: Any) -> None:
        seen.append(delivery.message.bucket_index)
        if fail:
            raise RuntimeError("handler bug")

    client = _client(redis_url, engine)
    client.subscribe(ToxicityAlert, handle)
    await client.start(consume=False)
    await client.poll()
    await client.close()
    return seen


def _dead_letter_groups(redis_url: str) -> Counter[str]:
    with redis.Redis.from_url(redis_url) as connection:
        entries = connection.xrange("{" + VPIN + "}:dead-letter")
    return Counter(fields[b"dl.group"].decode() for _, fields in entries)


def _six_dead_letters(redis_url: str) -> None:
    asyncio.run(_publish_alerts(redis_url, 2))
    for engine in GROUPS:
        asyncio.run(_consume(redis_url, engine, fail=True))
    assert _dead_letter_groups(redis_url) == dict.fromkeys(GROUPS, 2)


def test_each_group_gets_back_only_its_own_dead_letters(cli: RunCli, redis_url: str) -> None:
    _six_dead_letters(redis_url)

    replay = cli("dlq", "replay", VPIN, "--all", "--json", "--redis-url", redis_url)
    seen = {engine: asyncio.run(_consume(redis_url, engine, fail=False)) for engine in GROUPS}

    assert replay.status == 0, replay.err
    assert json.loads(replay.out)["replayed"] == 6
    assert seen == {group: [0, 1] for group in GROUPS}
    assert _dead_letter_groups(redis_url) == {}


def test_replaying_again_delivers_nothing_more(cli: RunCli, redis_url: str) -> None:
    _six_dead_letters(redis_url)
    cli("dlq", "replay", VPIN, "--all", "--redis-url", redis_url)

    again = cli("dlq", "replay", VPIN, "--all", "--json", "--redis-url", redis_url)
    seen = {engine: asyncio.run(_consume(redis_url, engine, fail=False)) for engine in GROUPS}

    assert json.loads(again.out)["replayed"] == 0
    assert seen == {group: [0, 1] for group in GROUPS}


def test_a_second_dead_letter_of_a_replayed_entry_is_removed_not_replayed(
    cli: RunCli, redis_url: str
) -> None:
    _six_dead_letters(redis_url)
    with redis.Redis.from_url(redis_url) as connection:
        ((_, risk_letter),) = [
            (entry_id, fields)
            for entry_id, fields in connection.xrange("{" + VPIN + "}:dead-letter")
            if fields[b"dl.group"] == b"risk" and fields[b"dl.deliveries"] == b"1"
        ][:1]
    cli("dlq", "replay", VPIN, "--all", "--redis-url", redis_url)
    with redis.Redis.from_url(redis_url) as connection:
        # The same failure, recorded twice.
        connection.xadd("{" + VPIN + "}:dead-letter", risk_letter)

    again = cli("dlq", "replay", VPIN, "--all", "--json", "--redis-url", redis_url)
    seen = asyncio.run(_consume(redis_url, "risk", fail=False))

    (result,) = json.loads(again.out)["results"]
    assert result["outcome"] == "duplicate"
    assert sorted(seen) == [0, 1]
