"""The delivery contract, run against the in-process transport and a real server alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime import (
    DeadLetterReason,
    Delivery,
    MessagePriority,
    TestClock,
    UniversalMessageBusClient,
    priority_lane,
)
from nautilus.runtime.schema.fingerprint import fingerprint
from nautilus.runtime.wire import encode_entry
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

from .conftest import TS_OPEN, Bus, flash_crash_warning, quote, toxicity_alert, trade

MARKETDATA = "nautilus-marketdata-streams"
VPIN = "nautilus-vpin-streams"


async def poll_until(
    client: UniversalMessageBusClient, done: Callable[[], bool], timeout_s: float = 10.0
) -> None:
    """Poll `client` until `done()`; `timeout_s` only bounds a hang, it asserts no timing."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "condition not reached in time"
        await client.poll(block_ms=20)


async def pending_of(client: UniversalMessageBusClient, group: str) -> int:
    """Entries delivered to `group` on the marketdata bulk lane and not yet acknowledged."""
    states = await client.transport.group_states(MARKETDATA)
    return next(g.pending for g in states if g.name == group)


async def wait_for(done: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await done():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_typed_messages_round_trip_with_their_envelope(bus: Bus) -> None:
    clock = TestClock(TS_OPEN)
    producer = bus.client("marketdata", clock=clock)
    risk = bus.client("risk")
    received: list[Delivery[Quote]] = []
    risk.subscribe(Quote, received.append)
    await producer.start()
    await risk.start(consume=False)

    sent = quote(1)
    await producer.publish(
        sent, key="AAPL.XNAS", trace_context="00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    )
    await producer.flush()
    await poll_until(risk, lambda: len(received) == 1)

    delivery = received[0]
    assert delivery.message == sent
    assert delivery.message_type == "nautilus.marketdata.v1.Quote"
    assert (delivery.stream, delivery.lane) == (MARKETDATA, MARKETDATA)
    assert delivery.producer == "marketdata"
    assert delivery.published_at_ns == TS_OPEN
    assert delivery.priority is MessagePriority.NORMAL
    assert delivery.key == "AAPL.XNAS"
    assert delivery.trace_context == "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    assert delivery.delivery_count == 1
    await producer.close()
    await risk.close()


async def test_messages_within_a_lane_arrive_in_publish_order(bus: Bus) -> None:
    producer = bus.client("marketdata", max_buffer_size=64)
    risk = bus.client("risk")
    seen: list[int] = []
    risk.subscribe(Quote, lambda d: seen.append(d.message.ts_event))
    await producer.start()
    await risk.start(consume=False)

    await producer.publish_many(quote(i) for i in range(1000))
    await producer.flush()
    await poll_until(risk, lambda: len(seen) == 1000)

    assert seen == [quote(i).ts_event for i in range(1000)]
    await producer.close()
    await risk.close()


async def test_urgent_messages_use_the_priority_lane_and_are_read_first(bus: Bus) -> None:
    producer = bus.client("vpin")
    risk = bus.client("risk")
    order: list[str] = []
    risk.subscribe(ToxicityAlert, lambda d: order.append(f"alert:{d.priority.name}"))
    risk.subscribe(FlashCrashWarning, lambda d: order.append(f"crash:{d.lane}"))
    await producer.start()
    await risk.start(consume=False)

    for bucket in range(5):
        await producer.publish(toxicity_alert(bucket), priority=MessagePriority.NORMAL)
    await producer.publish(flash_crash_warning())
    await producer.flush()
    await poll_until(risk, lambda: len(order) == 6)

    assert order[0] == f"crash:{priority_lane(VPIN)}"
    assert order[1:] == ["alert:NORMAL"] * 5
    await producer.close()
    await risk.close()


async def test_bulk_buffer_is_flushed_by_time(bus: Bus) -> None:
    producer = bus.client("marketdata", buffer_interval_ms=20, max_buffer_size=5000)
    await producer.start()

    for i in range(3):
        await producer.publish(quote(i))

    await wait_for(lambda: _length_is(producer, MARKETDATA, 3))
    await producer.close()


async def test_bulk_buffer_is_flushed_by_size(bus: Bus) -> None:
    producer = bus.client("marketdata", buffer_interval_ms=60_000, max_buffer_size=100)
    await producer.start()

    for i in range(99):
        await producer.publish(quote(i))
    await asyncio.sleep(0.05)
    assert await producer.transport.length(MARKETDATA) == 0
    await producer.publish(quote(99))

    await wait_for(lambda: _length_is(producer, MARKETDATA, 100))
    await producer.close()


async def _length_is(client: UniversalMessageBusClient, key: str, expected: int) -> bool:
    return await client.transport.length(key) == expected


async def test_failing_message_goes_to_dead_letter_after_max_deliveries(bus: Bus) -> None:
    producer = bus.client("marketdata")
    vpin = bus.client("vpin", max_deliveries=3)
    handled: list[str] = []
    attempts: list[int] = []

    def handle(delivery: Delivery[Trade]) -> None:
        if delivery.message.instrument_id == "POISON.XNAS":
            attempts.append(delivery.delivery_count)
            raise ValueError("negative size in trade")
        handled.append(delivery.message.instrument_id)

    vpin.subscribe(Trade, handle)
    await producer.start()
    await vpin.start(consume=False)
    await producer.publish_many([trade(1), trade(2, "POISON.XNAS"), trade(3, "MSFT.XNAS")])
    await producer.flush()

    async def dead_lettered() -> bool:
        await vpin.poll(block_ms=20)
        return bool(await vpin.dead_letters(Trade))

    await wait_for(dead_lettered)
    [dead] = await vpin.dead_letters(Trade)
    assert dead.reason is DeadLetterReason.MAX_DELIVERIES
    assert "negative size in trade" in dead.detail
    assert (dead.deliveries, dead.group, dead.lane) == (3, "vpin", MARKETDATA)
    assert Trade.FromString(dead.original_fields[b"p"]).instrument_id == "POISON.XNAS"
    assert attempts == [1, 2, 3]
    assert handled == ["AAPL.XNAS", "MSFT.XNAS"]
    assert await pending_of(vpin, "vpin") == 0
    await producer.close()
    await vpin.close()


async def test_bad_entries_go_to_dead_letter_and_the_consumer_keeps_going(bus: Bus) -> None:
    producer = bus.client("marketdata")
    risk = bus.client("risk")
    handled: list[int] = []
    risk.subscribe(Quote, lambda d: handled.append(d.message.ts_event))
    await producer.start()
    await risk.start(consume=False)
    transport = producer.transport
    spec_type = b"nautilus.marketdata.v1.Quote"
    spec_fp = fingerprint(Quote.DESCRIPTOR).encode()
    valid = quote(7).SerializeToString()

    def entry(message_type: bytes, fingerprint: bytes, payload: bytes) -> tuple[bytes, ...]:
        return encode_entry(
            message_type,
            fingerprint,
            payload,
            producer=b"marketdata",
            published_at_ns=TS_OPEN,
            priority=MessagePriority.NORMAL,
        )

    await transport.add_one(MARKETDATA, (b"garbage", b"\xff\xfe\x00\x01"))
    await transport.add_one(MARKETDATA, entry(spec_type, spec_fp, valid[:5]))
    await transport.add_one(MARKETDATA, entry(b"nautilus.unknown.v1.Mystery", spec_fp, valid))
    await transport.add_one(MARKETDATA, entry(spec_type, b"0000000000000000", valid))
    await producer.publish(quote(8))
    await producer.flush()

    await poll_until(risk, lambda: len(handled) == 1)
    await risk.poll()

    reasons = [d.reason for d in await risk.dead_letters(Quote)]
    assert reasons == [
        DeadLetterReason.UNDECODABLE,
        DeadLetterReason.UNDECODABLE,
        DeadLetterReason.UNKNOWN_TYPE,
        # On Redis the consumer asks the schema registry, which has never seen this fingerprint.
        DeadLetterReason.UNKNOWN_FINGERPRINT
        if risk.registry is not None
        else DeadLetterReason.FINGERPRINT_MISMATCH,
    ]
    assert handled == [quote(8).ts_event]
    assert await pending_of(risk, "risk") == 0
    await producer.close()
    await risk.close()


async def test_types_an_engine_does_not_subscribe_to_are_acknowledged_unhandled(bus: Bus) -> None:
    producer = bus.client("marketdata")
    risk = bus.client("risk")
    quotes: list[Delivery[Quote]] = []
    risk.subscribe(Quote, quotes.append)
    await producer.start()
    await risk.start(consume=False)

    await producer.publish_many([trade(1), quote(1), trade(2)])
    await producer.flush()
    await poll_until(risk, lambda: len(quotes) == 1)
    await risk.drain()

    assert risk.stats()["ignored"] == 2
    assert await risk.dead_letters(Quote) == []
    assert await pending_of(risk, "risk") == 0
    await producer.close()
    await risk.close()


async def test_every_consuming_engine_gets_every_message_through_its_own_group(bus: Bus) -> None:
    producer = bus.client("marketdata")
    consumers = {engine: bus.client(engine) for engine in ("risk", "vpin", "strategy")}
    seen: dict[str, list[str]] = {engine: [] for engine in consumers}
    for engine, client in consumers.items():
        client.subscribe(Trade, lambda d, engine=engine: seen[engine].append(d.message.trade_id))
        await client.start(consume=False)
    await producer.start()

    await producer.publish_many(trade(i) for i in range(50))
    await producer.flush()
    for client in consumers.values():
        await client.drain()

    expected = [trade(i).trade_id for i in range(50)]
    assert seen == dict.fromkeys(consumers, expected)
    for engine in consumers:
        assert await pending_of(producer, engine) == 0
    for client in (producer, *consumers.values()):
        await client.close()


async def test_safe_trim_keeps_entries_a_group_has_not_received(bus: Bus) -> None:
    # Only risk's group exists here, so trimming is held by that one group alone.
    producer = bus.client("marketdata", trim_max_len=10, declare_consumer_groups=False)
    risk = bus.client("risk", read_count=30)
    handled: list[int] = []
    risk.subscribe(Quote, lambda d: handled.append(d.message.ts_event))
    await producer.start()
    await risk.start(consume=False)
    await producer.publish_many(quote(i) for i in range(100))
    await producer.flush()

    await risk.poll()  # the group receives (and acknowledges) the first 30 only
    [result] = await producer.trim()

    assert (result.deleted, result.held_by_groups) == (30, True)
    assert await producer.transport.length(MARKETDATA) == 70
    await risk.drain()
    assert handled == [quote(i).ts_event for i in range(100)]
    [result] = await producer.trim()
    assert (result.deleted, result.held_by_groups) == (60, False)
    assert await producer.transport.length(MARKETDATA) == 10
    await producer.close()
    await risk.close()


async def test_safe_trim_keeps_entries_pending_in_a_group(bus: Bus) -> None:
    # Only vpin's group exists here (it gets trades at least once), so trimming is held by that
    # one group alone.
    producer = bus.client("marketdata", trim_max_len=0, declare_consumer_groups=False)
    vpin = bus.client("vpin", read_count=10)
    vpin.subscribe(Trade, lambda d: _fail_on(d, "MSFT.XNAS"))
    await producer.start()
    await vpin.start(consume=False)
    await producer.publish_many(trade(i, "MSFT.XNAS" if i == 3 else "AAPL.XNAS") for i in range(10))
    await producer.flush()

    await vpin.poll()  # all 10 received; the fourth fails and stays pending
    [result] = await producer.trim()

    assert result.deleted == 3
    oldest_id, _ = (await producer.transport.range(MARKETDATA))[0]
    assert oldest_id == result.min_id
    await producer.close()
    await vpin.close()


def _fail_on(delivery: Delivery[Trade], instrument_id: str) -> None:
    if delivery.message.instrument_id == instrument_id:
        raise RuntimeError(f"cannot price {instrument_id}")


async def test_groups_declared_by_the_producer_keep_entries_for_engines_not_yet_started(
    bus: Bus,
) -> None:
    producer = bus.client("marketdata", trim_max_len=10)
    await producer.start()
    await producer.publish_many(quote(i) for i in range(40))
    await producer.flush()
    [result] = await producer.trim()
    assert (result.deleted, result.held_by_groups) == (0, True)

    risk = bus.client("risk")
    handled: list[int] = []
    risk.subscribe(Quote, lambda d: handled.append(d.message.ts_event))
    await risk.start(consume=False)
    await risk.drain()

    assert handled == [quote(i).ts_event for i in range(40)]
    groups = {g.name for g in await producer.transport.group_states(MARKETDATA)}
    assert "frontend" not in groups
    assert {"risk", "vpin", "strategy", "websocket", "toraniko"} <= groups
    await producer.close()
    await risk.close()
