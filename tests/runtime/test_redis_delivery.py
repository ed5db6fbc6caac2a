"""Delivery behaviours that only a real server can show: crashes, outages, big backlogs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime import (
    BackpressureError,
    Delivery,
    EmbeddedServer,
    MessagePriority,
    UniversalMessageBusClient,
    priority_lane,
)
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

from .conftest import Bus, flash_crash_warning, quote, toxicity_alert, trade

MARKETDATA = "nautilus-marketdata-streams"
VPIN = "nautilus-vpin-streams"
SLOW_CONSUMER = Path(__file__).with_name("slow_consumer.py")


async def test_critical_message_overtakes_a_bulk_backlog_of_100k(redis_bus: Bus) -> None:
    producer = redis_bus.client("vpin")
    risk = redis_bus.client("risk", read_count=500)
    order: list[str] = []
    risk.subscribe(ToxicityAlert, lambda d: order.append("alert"))
    risk.subscribe(FlashCrashWarning, lambda d: order.append("crash"))
    await producer.start()
    await risk.start(consume=False)
    await producer.publish_many(
        (toxicity_alert(i) for i in range(100_000)), priority=MessagePriority.NORMAL
    )
    await producer.flush()
    deadline = time.monotonic() + 60  # bounds a hang; asserts no timing
    while len(order) < 1000:
        assert time.monotonic() < deadline, "the backlog was not being consumed"
        await risk.poll()

    handled_before = len(order)
    await producer.publish(flash_crash_warning())
    await producer.flush()
    await risk.poll(block_ms=1000)

    assert order.index("crash") == handled_before
    assert await producer.transport.length(VPIN) == 100_000
    assert await producer.transport.length(priority_lane(VPIN)) == 1
    await producer.close()
    await risk.close()


def _outage_bus(server: EmbeddedServer) -> Bus:
    return Bus("redis", server.url)


async def test_publisher_raises_backpressure_while_redis_is_down(
    private_server: EmbeddedServer,
) -> None:
    producer = _outage_bus(private_server).client(
        "marketdata", max_unsent_messages=500, backpressure="raise", reconnect_max_ms=50
    )
    await producer.start()
    private_server.kill()

    for i in range(500):
        producer.publish_nowait(quote(i))
    with pytest.raises(BackpressureError) as refused:
        await producer.publish(quote(500))

    assert (refused.value.stream, refused.value.buffered, refused.value.limit) == (
        MARKETDATA,
        500,
        500,
    )
    private_server.start()
    await producer.close(timeout_s=30)


async def test_blocking_backpressure_waits_then_raises(private_server: EmbeddedServer) -> None:
    producer = _outage_bus(private_server).client(
        "marketdata",
        max_unsent_messages=100,
        backpressure="block",
        backpressure_timeout_s=0.2,
        reconnect_max_ms=50,
    )
    await producer.start()
    private_server.kill()
    await producer.publish_many(quote(i) for i in range(100))

    with pytest.raises(BackpressureError) as refused:
        await producer.publish(quote(100))

    assert refused.value.waited_s >= 0.2
    private_server.start()
    await producer.close(timeout_s=30)


async def test_messages_buffered_during_an_outage_are_delivered_after_restart(
    private_server: EmbeddedServer,
) -> None:
    bus = _outage_bus(private_server)
    producer = bus.client("marketdata", max_unsent_messages=2000, reconnect_max_ms=50)
    await producer.start()
    private_server.kill()
    await producer.publish_many(quote(i) for i in range(1500))
    # An awaited CRITICAL publish would wait for the server; without waiting it stays buffered.
    producer.publish_nowait(quote(1500), priority=MessagePriority.CRITICAL)
    await asyncio.sleep(0.2)
    assert producer.publisher.unsent == 1501

    private_server.start()
    await producer.flush(timeout_s=30)

    risk = bus.client("risk", read_count=1000)
    seen: list[Delivery[Quote]] = []
    risk.subscribe(Quote, seen.append)
    await risk.start(consume=False)
    await risk.drain()
    assert seen[0].priority is MessagePriority.CRITICAL
    assert [d.message for d in seen[1:]] == [quote(i) for i in range(1500)]
    await producer.close()
    await risk.close()


async def _pending(client: UniversalMessageBusClient, group: str) -> int:
    states = await client.transport.group_states(MARKETDATA)
    return next(g.pending for g in states if g.name == group)


def _handled_ids(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


async def test_pending_entries_of_a_killed_consumer_are_handled_by_another(
    any_redis_bus: Bus, tmp_path: Path
) -> None:
    producer = any_redis_bus.client("marketdata")
    await producer.start()
    trades = [trade(i) for i in range(300)]
    await producer.publish_many(trades)
    await producer.flush()
    handled_file = tmp_path / "handled-by-doomed.txt"
    hang_on = trades[150].trade_id
    doomed = subprocess.Popen(
        [
            sys.executable,
            str(SLOW_CONSUMER),
            any_redis_bus.redis_url or "",
            "vpin",
            "vpin-doomed",
            str(handled_file),
            hang_on,
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while len(_handled_ids(handled_file)) < 150:
            assert doomed.poll() is None, "consumer process exited early"
            assert time.monotonic() < deadline, "consumer process made no progress"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
    [group] = [g for g in await producer.transport.group_states(MARKETDATA) if g.name == "vpin"]
    assert group.pending > 0  # the killed consumer left entries read but not acknowledged

    survivor = any_redis_bus.client("vpin", reclaim_idle_ms=200)
    handled_by_survivor: list[Delivery[Trade]] = []
    survivor.subscribe(Trade, handled_by_survivor.append)
    await survivor.start(consume=False)
    everything = {t.trade_id for t in trades}
    deadline = time.monotonic() + 30
    while (
        set(_handled_ids(handled_file)) | {d.message.trade_id for d in handled_by_survivor}
        != everything
    ):
        assert time.monotonic() < deadline, "pending entries were not reclaimed"
        await survivor.poll(block_ms=50)

    reclaimed = [d for d in handled_by_survivor if d.delivery_count > 1]
    assert hang_on in {d.message.trade_id for d in reclaimed}
    assert await _pending(survivor, "vpin") == 0
    await producer.close()
    await survivor.close()


async def test_nowait_publishes_are_written_in_order_by_flush(redis_bus: Bus) -> None:
    # The flush, not the interval timer, writes the bulk lane: buffer_interval_ms is a minute.
    producer = redis_bus.client("marketdata", max_buffer_size=1000, buffer_interval_ms=60_000)
    await producer.start()
    for i in range(2500):
        producer.publish_nowait(quote(i))
    await producer.publish(trade(1), priority=MessagePriority.CRITICAL)
    await producer.flush()
    assert producer.stats()["published"] == 2501
    assert producer.stats()["unsent"] == 0
    await producer.close()

    risk = redis_bus.client("risk", read_count=1000)
    quotes: list[Quote] = []
    trades: list[Delivery[Trade]] = []
    risk.subscribe(Quote, lambda d: quotes.append(d.message))
    risk.subscribe(Trade, trades.append)
    await risk.start(consume=False)
    await risk.drain()
    assert quotes == [quote(i) for i in range(2500)]
    assert [(d.message, d.lane) for d in trades] == [(trade(1), priority_lane(MARKETDATA))]
    await risk.close()


async def test_consumer_survives_a_server_restart(private_server: EmbeddedServer) -> None:
    bus = _outage_bus(private_server)
    producer = bus.client("marketdata", reconnect_max_ms=50)
    risk = bus.client("risk", reconnect_max_ms=50)
    seen: list[int] = []
    risk.subscribe(Quote, lambda d: seen.append(d.message.ts_event))
    async with producer, risk:
        private_server.kill()
        await asyncio.sleep(0.1)
        private_server.start()
        await producer.publish(quote(1))
        await producer.flush(timeout_s=30)
        deadline = time.monotonic() + 30
        while not seen:
            assert time.monotonic() < deadline, "consumer did not recover"
            await asyncio.sleep(0.02)
    assert seen == [quote(1).ts_event]


def test_embedded_server_restarts_on_the_same_port(private_server: EmbeddedServer) -> None:
    url = private_server.url
    private_server.kill()
    assert not private_server.running
    private_server.restart()
    assert private_server.running
    assert private_server.url == url


def test_client_repr_names_engine_and_transport(redis_bus: Bus) -> None:
    client: UniversalMessageBusClient = redis_bus.client("risk")
    assert "risk" in repr(client)
    assert "redis://127.0.0.1" in repr(client)
