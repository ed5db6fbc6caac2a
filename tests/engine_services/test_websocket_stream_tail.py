"""A stream tail (what WebSocket edges read with) on a real server: it gets what is published as
it is published, takes nothing from the engines' consumer groups, and skips an entry it cannot
read without stopping."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from google.protobuf.message import Message

from nautilus.clients.vpin import VPINClient
from nautilus.common.v1 import common_pb2
from nautilus.engines.websocket.stream_tail import StreamTail
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

VPIN_URGENT = "{nautilus-vpin-streams}:urgent"


async def _wait_for(condition: object) -> None:
    deadline = time.monotonic() + 30.0  # bounds a hang; asserts no timing
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


def _warning(n: int) -> FlashCrashWarning:
    return FlashCrashWarning(
        instrument_id="BTCUSDT.BINANCE",
        price_drop_bps=200.0 + n,
        severity=common_pb2.SEVERITY_CRITICAL,
        ts_event=n,
        ts_init=n,
    )


async def test_a_tail_sees_what_is_published_and_takes_nothing_from_the_engines(
    redis_url: str,
) -> None:
    config = MessageBusConfig(engine="vpin", redis_url=redis_url, trim_interval_ms=0)
    vpin = VPINClient(UniversalMessageBusClient(config))
    await vpin.start(consume=False)  # declares the groups of Risk, Analytics and Strategy
    seen: list[Message] = []

    async def deliver(message: Message) -> None:
        seen.append(message)

    feed = StreamTail(redis_url, deliver, types=(FlashCrashWarning, ToxicityAlert))
    started = asyncio.Event()
    reading = asyncio.create_task(feed.run(started))
    try:
        await started.wait()
        await vpin.publish_flash_crash_warning(_warning(1))
        async with aioredis.Redis.from_url(redis_url) as server:
            await server.xadd(VPIN_URGENT, {"v": "1", "t": "garbage"})
        await vpin.publish_toxicity_alert(ToxicityAlert(instrument_id="ETHUSDT.BINANCE", vpin=0.9))
        await vpin.publish_flash_crash_warning(_warning(2))
        await _wait_for(lambda: len(seen) == 3)
        async with aioredis.Redis.from_url(redis_url) as server:
            groups = await server.xinfo_groups(VPIN_URGENT)
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        await vpin.close()

    assert [type(m).__name__ for m in seen] == [
        "FlashCrashWarning",
        "ToxicityAlert",
        "FlashCrashWarning",
    ]
    assert [m.price_drop_bps for m in seen if isinstance(m, FlashCrashWarning)] == [201.0, 202.0]
    assert feed.unreadable == 1
    assert {g["name"].decode() for g in groups} == {"risk", "analytics", "strategy", "websocket"}
    for group in groups:  # every entry still waits for each engine: none read, none pending
        assert (group["pending"], group["lag"]) == (0, 4)
