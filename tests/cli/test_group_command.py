"""`nautilus group`: the groups of engines and observers, and removing the ones nobody reads."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from tests.runtime.conftest import quote

from .conftest import RunCli

MARKETDATA = "nautilus-marketdata-streams"


def _client(redis_url: str, **settings: Any) -> UniversalMessageBusClient:
    return UniversalMessageBusClient(
        MessageBusConfig(redis_url=redis_url, trim_interval_ms=0, read_block_ms=20, **settings)
    )


async def _publish_quotes(redis_url: str, count: int) -> None:
    async with _client(redis_url, engine="marketdata", declare_consumer_groups=False) as producer:
        for seq in range(count):
            await producer.publish(quote(seq))
        await producer.flush()


async def _observe(redis_url: str, name: str, *, ack: bool = True) -> int:
    """One read by observer `name` of the quotes; its handler fails when not `ack`."""

    def handle(delivery: Any) -> None:
        if not ack:
            raise RuntimeError("observer crashed")

    observer = _client(redis_url, observer=name, consumer_name=f"{name}-1")
    observer.subscribe(Quote, handle)
    await observer.start(consume=False)
    processed = await observer.poll()
    await observer.close()
    return processed


async def _attach_risk(redis_url: str) -> None:
    risk = _client(redis_url, engine="risk")
    risk.subscribe(Quote, lambda d: None)
    await risk.start(consume=False)
    await risk.close()


def test_list_tells_engine_groups_from_observer_groups(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish_quotes(redis_url, 3))
    asyncio.run(_observe(redis_url, "desk"))
    asyncio.run(_attach_risk(redis_url))

    result = cli("group", "list", MARKETDATA, "--json", "--redis-url", redis_url)

    kinds = {(g["lane"], g["group"]): g["kind"] for g in json.loads(result.out)["groups"]}
    assert kinds[("bulk", "observer:desk")] == "observer"
    assert kinds[("bulk", "risk")] == "engine"
    assert kinds[("urgent", "observer:desk")] == "observer"


def test_a_departed_observer_holds_trim_back_until_its_group_is_destroyed(
    cli: RunCli, redis_url: str
) -> None:
    asyncio.run(_publish_quotes(redis_url, 5))
    asyncio.run(_observe(redis_url, "gone"))  # reads the first 5, then goes away for good
    asyncio.run(_publish_quotes(redis_url, 20))
    held = cli("trim", MARKETDATA, "--max-len", "0", "--redis-url", redis_url)
    assert "held back by group observer:gone" in held.out

    destroyed = cli(
        "group", "destroy", MARKETDATA, "observer:gone", "--yes", "--json", "--redis-url", redis_url
    )
    trimmed = cli("trim", MARKETDATA, "--max-len", "0", "--redis-url", redis_url)

    assert destroyed.status == 0
    assert json.loads(destroyed.out)["destroyed"] == [MARKETDATA, "{" + MARKETDATA + "}:urgent"]
    assert "bulk lane nautilus-marketdata-streams: deleted 20 entries" in trimmed.out


def test_an_engine_group_is_not_destroyed_without_force(cli: RunCli, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.xgroup_create(MARKETDATA, "risk", id="0", mkstream=True)

    refused = cli("group", "destroy", MARKETDATA, "risk", "--yes", "--redis-url", redis_url)

    assert refused.status == 2
    assert [g["name"] for g in client.xinfo_groups(MARKETDATA)] == [b"risk"]
    client.close()


def test_a_consumer_with_pending_entries_is_kept_unless_forced(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish_quotes(redis_url, 4))
    asyncio.run(_observe(redis_url, "desk", ack=False))  # 4 entries stay pending with desk-1

    refused = cli(
        "group", "delconsumer", MARKETDATA, "observer:desk", "desk-1", "--redis-url", redis_url
    )
    forced = cli(
        "group", "delconsumer", MARKETDATA, "observer:desk", "desk-1", "--force", "--json",
        "--redis-url", redis_url,
    )  # fmt: skip

    assert refused.status == 2
    assert "still holds 4 pending entries" in refused.err
    assert forced.status == 0
    assert {"lane": MARKETDATA, "dropped_pending": 4} in json.loads(forced.out)["lanes"]


def test_setid_to_the_end_skips_an_observers_backlog(cli: RunCli, redis_url: str) -> None:
    asyncio.run(_publish_quotes(redis_url, 2))
    asyncio.run(_observe(redis_url, "desk"))
    asyncio.run(_publish_quotes(redis_url, 30))

    moved = cli(
        "group", "setid", MARKETDATA, "observer:desk", "$", "--yes", "--redis-url", redis_url
    )

    assert moved.status == 0
    assert asyncio.run(_observe(redis_url, "desk")) == 0
