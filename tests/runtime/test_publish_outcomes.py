"""What a publisher tells its caller about each message: landed, refused for good, or buffered."""

from __future__ import annotations

import asyncio

import pytest
import redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import MessagePriority, PublishRejectedError, priority_lane
from nautilus.runtime.wire import FIELD_PRODUCER_INSTANCE, FIELD_SEQUENCE

from .conftest import Bus, flash_crash_warning, quote

MARKETDATA = "nautilus-marketdata-streams"
VPIN = "nautilus-vpin-streams"
#: Generous bound on a publish that must fail promptly rather than be retried for ever.
PROMPTLY_S = 30


async def test_an_awaited_critical_publish_returns_once_the_server_holds_the_entry(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("vpin", buffer_interval_ms=60_000)
    await producer.start()
    await producer.publish(flash_crash_warning())
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.xlen(priority_lane(VPIN)) == 1
    await producer.close()


async def test_wait_landed_returns_once_the_server_holds_a_bulk_message(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("marketdata", buffer_interval_ms=60_000)
    await producer.start()
    await producer.publish(quote(1), wait_landed=True)
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.xlen(MARKETDATA) == 1
    await producer.close()


async def test_an_awaited_critical_publish_to_a_lane_of_the_wrong_type_raises(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("vpin")
    await producer.start()
    with redis.Redis.from_url(redis_url) as connection:  # clobbered while running
        connection.set(priority_lane(VPIN), "not a stream")
    with pytest.raises(PublishRejectedError) as raised:
        async with asyncio.timeout(PROMPTLY_S):
            await producer.publish(flash_crash_warning())
    assert raised.value.kind == "WRONGTYPE"
    assert raised.value.lane == priority_lane(VPIN)
    assert raised.value.message_type == "nautilus.vpin.v1.FlashCrashWarning"
    assert producer.publisher.stats.failed_writes == 0  # refused once, not retried
    await producer.close()


async def test_wait_landed_raises_when_the_server_refuses_a_bulk_message(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("marketdata")
    await producer.start()
    with redis.Redis.from_url(redis_url) as connection:  # clobbered while running
        connection.set(MARKETDATA, "not a stream")
    with pytest.raises(PublishRejectedError) as raised:
        async with asyncio.timeout(PROMPTLY_S):
            await producer.publish(quote(1), wait_landed=True)
    assert raised.value.kind == "WRONGTYPE"
    await producer.flush()  # already reported to the waiting publish: nothing more to raise
    await producer.close()


async def test_refused_nowait_publishes_reach_the_hook_the_counter_and_flush(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("marketdata", buffer_interval_ms=60_000)
    refused: list[PublishRejectedError] = []
    producer.on_publish_failure(refused.append)
    await producer.start()
    with redis.Redis.from_url(redis_url) as connection:  # clobbered while running
        connection.set(MARKETDATA, "not a stream")
    for i in range(3):
        producer.publish_nowait(quote(i))
    with pytest.raises(PublishRejectedError) as raised:
        await producer.flush(timeout_s=PROMPTLY_S)
    assert raised.value.count == 3
    assert raised.value.reply.startswith("WRONGTYPE")
    assert [error.sequence for error in refused] == [1, 2, 3]
    assert producer.stats()["publish_rejected"] == 3
    await producer.close()  # reported by the flush: close has nothing left to raise


async def test_close_raises_for_refused_messages_not_yet_reported(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("marketdata")
    await producer.start()
    with redis.Redis.from_url(redis_url) as connection:  # clobbered while running
        connection.set(MARKETDATA, "not a stream")
    producer.publish_nowait(quote(1))
    with pytest.raises(PublishRejectedError) as raised:
        await producer.close()
    assert raised.value.count == 1


async def test_entries_carry_the_producer_instance_and_a_sequence_per_lane(bus: Bus) -> None:
    first = bus.client("marketdata")
    second = bus.client("marketdata")
    await first.start()
    await second.start()
    for i in range(3):
        first.publish_nowait(quote(i))
    first.publish_nowait(quote(3), priority=MessagePriority.CRITICAL)
    await first.flush()
    second.publish_nowait(quote(4))
    await second.flush()
    bulk = [fields for _, fields in await first.transport.range(MARKETDATA)]
    urgent = [fields for _, fields in await first.transport.range(priority_lane(MARKETDATA))]
    instances = [fields[FIELD_PRODUCER_INSTANCE] for fields in bulk]
    assert [fields[FIELD_SEQUENCE] for fields in bulk] == [b"1", b"2", b"3", b"1"]
    assert [fields[FIELD_SEQUENCE] for fields in urgent] == [b"1"]
    assert instances[0] == instances[1] == instances[2] == urgent[0][FIELD_PRODUCER_INSTANCE]
    assert instances[3] != instances[0]
    assert all(len(instance) == 16 for instance in instances)
    await first.close()
    await second.close()


async def test_find_written_tells_which_entries_the_server_holds(bus: Bus) -> None:
    producer = bus.client("marketdata")
    await producer.start()
    producer.publish_nowait(quote(1))
    await producer.flush()
    transport = producer.transport
    instance = (await transport.range(MARKETDATA))[0][1][FIELD_PRODUCER_INSTANCE]
    from nautilus.runtime.wire import encode_entry

    def prepared(sequence: int) -> object:
        fields = encode_entry(
            b"nautilus.marketdata.v1.Quote", b"0" * 16, Quote().SerializeToString(),
            producer=b"marketdata", published_at_ns=1, priority=MessagePriority.NORMAL,
            instance=instance, sequence=sequence,
        )  # fmt: skip
        return transport.prepare_add(MARKETDATA, fields)

    assert await transport.find_written([prepared(1), prepared(2)], 0) == [True, False]
    await producer.close()
