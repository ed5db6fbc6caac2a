"""Best-effort delivery (`delivery: DELIVERY_BEST_EFFORT` on the Quote and Trade routes).

Quotes and trades share the marketdata bulk lane. Risk gets both best effort, so its group reads
the lane with XREADGROUP NOACK: nothing it reads is pending (nothing to acknowledge, renew or
reclaim). VPIN gets trades at least once (`at_least_once_consumers`), so its group reads the same
lane as before: every entry pending until handled.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from redis.asyncio import Redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime import Delivery, MessagePriority, UniversalMessageBusClient, priority_lane
from nautilus.runtime.dead_letter import DeadLetter, read_dead_letters
from nautilus.runtime.lanes import bulk_lane, dead_letter_stream, retry_lane
from nautilus.runtime.retry_lane import replay_to_groups
from nautilus.runtime.transport.redis import RedisTransport

from .conftest import Bus, quote, trade

MARKETDATA = "nautilus-marketdata-streams"
SLOW_CONSUMER = Path(__file__).with_name("slow_consumer.py")


async def _pending(client: UniversalMessageBusClient, lane: str, group: str) -> int:
    [state] = [g for g in await client.transport.group_states(lane) if g.name == group]
    return state.pending


async def _publish_market(producer: UniversalMessageBusClient, count: int) -> None:
    """`count` quotes and `count` trades, interleaved as a feed sends them."""
    for i in range(count):
        producer.publish_nowait(quote(i))
        producer.publish_nowait(trade(i))
    await producer.flush()


async def test_a_best_effort_group_reads_without_pending_entries(bus: Bus) -> None:
    producer = bus.client("marketdata")
    risk = bus.client("risk", read_count=100)
    pending_seen: list[int] = []

    async def on_first_quote(delivery: Delivery[Quote]) -> None:
        if not pending_seen:
            pending_seen.append(await _pending(risk, bulk_lane(MARKETDATA), "risk"))

    risk.subscribe(Quote, on_first_quote)
    risk.subscribe(Trade, lambda d: None)
    await producer.start()
    await risk.start(consume=False)
    await _publish_market(producer, 50)

    handled = await risk.poll()

    assert handled == 100
    assert pending_seen == [0]  # while its batch of 100 is handled
    await producer.close()
    await risk.close()


async def test_a_group_that_gets_trades_at_least_once_keeps_its_batch_pending(bus: Bus) -> None:
    producer = bus.client("marketdata")
    vpin = bus.client("vpin", read_count=100)
    pending_seen: list[int] = []

    async def on_first_trade(delivery: Delivery[Trade]) -> None:
        if not pending_seen:
            pending_seen.append(await _pending(vpin, bulk_lane(MARKETDATA), "vpin"))

    vpin.subscribe(Quote, lambda d: None)
    vpin.subscribe(Trade, on_first_trade)
    await producer.start()
    await vpin.start(consume=False)
    await _publish_market(producer, 50)

    handled = await vpin.poll()

    assert handled == 100
    assert pending_seen == [100]  # quotes included: the lane is read as one
    assert await _pending(vpin, bulk_lane(MARKETDATA), "vpin") == 0
    await producer.close()
    await vpin.close()


async def test_a_failing_quote_handler_dead_letters_the_quote_at_once(bus: Bus) -> None:
    producer = bus.client("marketdata")
    risk = bus.client("risk", max_deliveries=5)
    calls: list[int] = []

    def broken(delivery: Delivery[Quote]) -> None:
        calls.append(delivery.delivery_count)
        raise ValueError("crossed book")

    risk.subscribe(Quote, broken)
    await producer.start()
    await risk.start(consume=False)
    await producer.publish(quote(1), wait_landed=True)

    await risk.poll()
    [(_, record)] = await risk.transport.range(dead_letter_stream(MARKETDATA))

    assert calls == [1]  # not redelivered: a best-effort entry has no second delivery
    assert record[b"dl.reason"] == b"max-deliveries"
    assert b"best-effort" in record[b"dl.detail"]
    assert await _pending(risk, bulk_lane(MARKETDATA), "risk") == 0
    await producer.close()
    await risk.close()


async def test_a_trade_whose_handler_fails_reaches_vpin_again(bus: Bus) -> None:
    producer = bus.client("marketdata")
    vpin = bus.client("vpin", reclaim_idle_ms=50)
    calls: list[int] = []

    def flaky(delivery: Delivery[Trade]) -> None:
        calls.append(delivery.delivery_count)
        if len(calls) == 1:
            raise ConnectionResetError("position store unavailable")

    vpin.subscribe(Trade, flaky)
    await producer.start()
    await vpin.start(consume=False)
    await producer.publish(trade(1), wait_landed=True)

    deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
    while len(calls) < 2:
        assert time.monotonic() < deadline, "the failed trade was not delivered again"
        await vpin.poll(block_ms=20)

    assert calls == [1, 2]
    assert await _pending(vpin, bulk_lane(MARKETDATA), "vpin") == 0
    await producer.close()
    await vpin.close()


async def test_a_critical_quote_on_the_priority_lane_is_delivered_at_least_once(
    bus: Bus,
) -> None:
    producer = bus.client("marketdata")
    risk = bus.client("risk", reclaim_idle_ms=50)
    calls: list[int] = []

    def flaky(delivery: Delivery[Quote]) -> None:
        calls.append(delivery.delivery_count)
        if len(calls) == 1:
            raise ConnectionResetError("risk store unavailable")

    risk.subscribe(Quote, flaky)
    await producer.start()
    await risk.start(consume=False)
    await producer.publish(quote(1), priority=MessagePriority.CRITICAL)

    deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
    while len(calls) < 2:
        assert time.monotonic() < deadline, "the failed CRITICAL quote was not delivered again"
        await risk.poll(block_ms=20)

    assert calls == [1, 2]
    assert await _pending(risk, priority_lane(MARKETDATA), "risk") == 0
    await producer.close()
    await risk.close()


def _handled(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


async def test_a_killed_best_effort_consumer_loses_at_most_its_batch_in_flight(
    redis_bus: Bus, tmp_path: Path
) -> None:
    producer = redis_bus.client("marketdata")
    await producer.start()
    await _publish_market(producer, 300)
    handled_file = tmp_path / "handled-by-doomed.txt"
    hang_on = str(quote(150).ts_event)  # the doomed consumer reads with COUNT 50
    doomed = subprocess.Popen(
        [
            sys.executable,
            str(SLOW_CONSUMER),
            redis_bus.redis_url or "",
            "risk",
            "risk-doomed",
            str(handled_file),
            hang_on,
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while len(_handled(handled_file)) < 300:  # quotes and trades up to quote 150
            assert doomed.poll() is None, "consumer process exited early"
            assert time.monotonic() < deadline, "consumer process made no progress"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
    survivor = redis_bus.client("risk", reclaim_idle_ms=200)
    handled_by_survivor: list[str] = []
    survivor.subscribe(Trade, lambda d: handled_by_survivor.append(d.message.trade_id))
    survivor.subscribe(Quote, lambda d: handled_by_survivor.append(str(d.message.ts_event)))
    await survivor.start(consume=False)
    last = trade(299).trade_id
    deadline = time.monotonic() + 30
    while last not in handled_by_survivor:
        assert time.monotonic() < deadline, "the survivor did not read the rest of the lane"
        await survivor.poll(block_ms=50)

    handled = set(_handled(handled_file)) | set(handled_by_survivor)
    # Entries in feed order: quote i is entry 2i, trade i entry 2i + 1.
    labels = [label for i in range(300) for label in (str(quote(i).ts_event), trade(i).trade_id)]
    lost = [index for index, label in enumerate(labels) if label not in handled]
    assert lost[0] == 300  # quote 150, being handled when the consumer died...
    assert lost == list(range(300, 300 + len(lost)))  # ...and the rest of its batch, in a row
    assert len(lost) <= 50  # never more than one read (COUNT 50)
    assert len(handled_by_survivor) == len(labels) - 300 - len(lost)  # nothing twice
    assert await _pending(survivor, bulk_lane(MARKETDATA), "risk") == 0
    await producer.close()
    await survivor.close()


async def test_a_dead_lettered_quote_replayed_to_a_best_effort_group_reaches_its_loop_again(
    redis_bus: Bus,
) -> None:
    producer = redis_bus.client("marketdata")
    risk = redis_bus.client("risk")
    calls: list[tuple[str, int]] = []

    def fails_once(delivery: Delivery[Quote]) -> None:
        calls.append((delivery.lane, delivery.message.ts_event))
        if len(calls) == 1:
            raise ValueError("crossed book")

    risk.subscribe(Quote, fails_once)
    await producer.start()
    await risk.start(consume=True)  # the consume loop and its priority reader
    feeding = asyncio.create_task(_feed_quotes(producer))  # the bulk lane never runs dry
    try:
        letters = await _until_dead_lettered(risk)
        [replayed] = await replay_to_groups(_server(risk), MARKETDATA, letters)
        retry = retry_lane(MARKETDATA, "risk")
        deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
        while (retry, quote(0).ts_event) not in calls:
            assert time.monotonic() < deadline, "the replayed quote never reached the handler"
            await asyncio.sleep(0.01)
    finally:
        feeding.cancel()
        await asyncio.gather(feeding, return_exceptions=True)

    assert replayed.retry_lane == retry
    assert calls[0] == (MARKETDATA, quote(0).ts_event)
    assert calls.count((retry, quote(0).ts_event)) == 1
    assert await _pending(risk, retry, "risk") == 0  # read with acknowledgement, acknowledged
    await producer.close()
    await risk.close()


async def _feed_quotes(producer: UniversalMessageBusClient) -> None:
    """Quotes every few milliseconds, for as long as the test runs."""
    for seq in itertools.count():
        await producer.publish(quote(seq), wait_landed=True)
        await asyncio.sleep(0.002)


async def _until_dead_lettered(client: UniversalMessageBusClient) -> list[DeadLetter]:
    deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
    while True:
        letters = await read_dead_letters(_server(client), MARKETDATA)
        if letters:
            return letters
        assert time.monotonic() < deadline, "the failed quote was never dead-lettered"
        await asyncio.sleep(0.01)


def _server(client: UniversalMessageBusClient) -> Redis:
    transport = client.transport
    assert isinstance(transport, RedisTransport)
    return transport.client
