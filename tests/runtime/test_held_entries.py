"""Entries a consumer holds, on a real server: claims renewed while a batch is handled, entries a
peer took over, the priority lanes served between bulk entries, reclaiming, and `hold`.

Each test drives one `Consumer` cycle by cycle (`poll`) and reads what it did from the server
(XPENDING, XINFO) or from the order of its handler calls. Where a handler sleeps, the sleep is a
lower bound that makes a renewal or a priority read due, never a duration that is asserted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
import redis

from nautilus.analytics.v1.analytics_pb2 import TrendUpdate
from nautilus.features.v1.features_pb2 import FeatureVector
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import MessageBusConfig, MessagePriority, priority_lane
from nautilus.runtime.consumer import Consumer
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.resolver import LocalTypeResolver
from nautilus.runtime.routing import message_spec
from nautilus.runtime.transport.redis import RedisTransport
from nautilus.runtime.wire import encode_entry

from .conftest import TS_OPEN, quote

# VPIN's group reads the market data's bulk lane acknowledging (it gets trades at least once),
# so its entries are pending until handled: what renewing and reclaiming are about.
MARKETDATA = "nautilus-marketdata-streams"
FEATURES = "nautilus-feature-streams"
T = TypeVar("T")
CRITICAL = quote(999)  # a quote published CRITICAL: on the priority lane


def features(bucket: int) -> FeatureVector:
    return FeatureVector(instrument_id="AAPL.XNAS", bucket_index=bucket)


def write(redis_url: str, lane: str, message: Any, priority: MessagePriority) -> str:
    """XADD one entry as a producer would (the producer of the message's route)."""
    spec = message_spec(type(message))
    fields = encode_entry(
        spec.type_bytes,
        spec.fingerprint.encode(),
        message.SerializeToString(),
        producer=spec.route.producer.encode(),
        published_at_ns=TS_OPEN,
        priority=priority,
    )
    with redis.Redis.from_url(redis_url) as connection:
        entry_id: bytes = connection.xadd(lane, dict(zip(fields[::2], fields[1::2], strict=True)))
    return entry_id.decode()


def write_quotes(redis_url: str, count: int) -> list[str]:
    return [write(redis_url, MARKETDATA, quote(i), MessagePriority.NORMAL) for i in range(count)]


def write_critical(redis_url: str) -> None:
    write(redis_url, priority_lane(MARKETDATA), CRITICAL, MessagePriority.CRITICAL)


def pending(redis_url: str, lane: str, group: str = "vpin") -> dict[str, tuple[str, int]]:
    """Pending entries of `group` on `lane` as the server lists them: id -> (owner, deliveries)."""
    with redis.Redis.from_url(redis_url) as connection:
        listed = connection.xpending_range(lane, group, min="-", max="+", count=1000)
    return {
        p["message_id"].decode(): (p["consumer"].decode(), int(p["times_delivered"]))
        for p in listed
    }


class Engine:
    """One consumer of an engine's group (VPIN's unless `engine` is given) on Quote (and,
    optionally, FeatureVector) whose handler records what it handled and runs a per-quote
    action first."""

    def __init__(self, redis_url: str, *, features: bool = False, **settings: Any) -> None:
        options: dict[str, Any] = {
            "engine": "vpin",
            "consumer_name": "vpin-1",
            "redis_url": redis_url,
            "reclaim_idle_ms": 60_000,
            "trim_interval_ms": 0,
        }
        options.update(settings)
        self.config = MessageBusConfig(**options)
        self.transport = RedisTransport(redis_url)
        self.consumer = Consumer(self.transport, self.config, LocalTypeResolver())
        self.handled: list[Any] = []
        self.deliveries: list[Delivery[Any]] = []
        #: ts_event of a quote -> what to do before recording it.
        self.before: dict[int, Callable[[], None]] = {}
        self.consumer.subscribe(message_spec(Quote), self.handle)
        if features:
            self.consumer.subscribe(message_spec(FeatureVector), self.handle)

    def handle(self, delivery: Delivery[Any]) -> None:
        action = self.before.get(getattr(delivery.message, "ts_event", -1))
        if action is not None:
            action()
        self.handled.append(delivery.message)
        self.deliveries.append(delivery)

    def on(self, message: Any, action: Callable[[], None]) -> None:
        self.before[message.ts_event] = action

    async def __aenter__(self) -> Engine:
        await self.consumer.ensure_groups()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.transport.close()


async def within(awaitable: Awaitable[T], deadline_s: float = 10.0) -> T:
    """A wait with its own deadline (`hold` returns once the reads in flight are done)."""
    return await asyncio.wait_for(awaitable, timeout=deadline_s)


def sleep_s(seconds: float) -> Callable[[], None]:
    return lambda: time.sleep(seconds)


def then(*actions: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        for action in actions:
            action()

    return run


# Renewal (every quarter of reclaim_idle_ms, checked between entries).


async def test_entries_still_held_are_renewed_once_a_quarter_of_the_reclaim_idle_time_passed(
    redis_url: str,
) -> None:
    async with Engine(redis_url, reclaim_idle_ms=400) as vpin:  # renewed every 100 ms
        write_quotes(redis_url, 3)
        vpin.on(quote(0), sleep_s(0.15))  # the two others are renewed before quote 1
        vpin.on(quote(1), sleep_s(0.15))  # and quote 2 once more before its turn
        await vpin.consumer.poll()

    assert vpin.handled == [quote(0), quote(1), quote(2)]
    assert vpin.consumer.stats.renewed == 3


async def test_renewing_keeps_the_entries_with_this_consumer_and_their_delivery_count(
    redis_url: str,
) -> None:
    seen: list[dict[str, tuple[str, int]]] = []
    async with Engine(redis_url, reclaim_idle_ms=400) as vpin:
        ids = write_quotes(redis_url, 3)
        vpin.on(quote(0), sleep_s(0.15))
        vpin.on(quote(1), lambda: seen.append(pending(redis_url, MARKETDATA)))
        await vpin.consumer.poll()

    # Quote 0, handled before the renewal, was acknowledged with it.
    assert seen == [{ids[1]: ("vpin-1", 1), ids[2]: ("vpin-1", 1)}]
    assert pending(redis_url, MARKETDATA) == {}


async def test_batches_waiting_their_turn_are_renewed_with_the_current_one(
    redis_url: str,
) -> None:
    async with Engine(redis_url, reclaim_idle_ms=400) as vpin:
        urgent = [quote(100), quote(101)]
        for message in urgent:
            write(redis_url, priority_lane(MARKETDATA), message, MessagePriority.CRITICAL)
        write_quotes(redis_url, 1)
        vpin.on(urgent[0], sleep_s(0.15))
        await vpin.consumer.poll()

    # The second priority entry, and the quote waiting behind their batch: renewed once each.
    assert vpin.handled == [*urgent, quote(0)]
    assert vpin.consumer.stats.renewed == 2


async def test_entries_read_without_acknowledgement_are_not_renewed_but_those_after_them_are(
    redis_url: str,
) -> None:
    # Risk reads quotes best effort (NOACK, never pending) and trends at least once.
    analytics = "nautilus-analytics-streams"
    trend = TrendUpdate(instrument_id="AAPL.XNAS")
    async with Engine(
        redis_url, engine="risk", consumer_name="risk-1", reclaim_idle_ms=400
    ) as risk:
        risk.consumer.subscribe(message_spec(TrendUpdate), risk.handle)
        await risk.consumer.ensure_groups()
        write_quotes(redis_url, 2)
        write(redis_url, analytics, trend, MessagePriority.NORMAL)
        risk.on(quote(0), sleep_s(0.15))
        await risk.consumer.poll()

    assert risk.handled == [quote(0), quote(1), trend]
    assert risk.consumer.stats.renewed == 1  # the trend waiting behind the quotes


def take_over(redis_url: str, ids: list[str]) -> Callable[[], None]:
    """A peer claims `ids` (as XAUTOCLAIM would after reclaim_idle_ms) and acknowledges them."""

    def run() -> None:
        with redis.Redis.from_url(redis_url) as connection:
            connection.xclaim(MARKETDATA, "vpin", "vpin-peer", 0, ids)
            connection.xack(MARKETDATA, "vpin", *ids)

    return run


async def test_held_entries_a_peer_took_over_and_acknowledged_are_skipped(
    redis_url: str,
) -> None:
    async with Engine(redis_url, reclaim_idle_ms=400) as vpin:
        ids = write_quotes(redis_url, 4)
        vpin.on(quote(0), then(take_over(redis_url, [ids[1], ids[3]]), sleep_s(0.15)))
        await vpin.consumer.poll()

    assert vpin.handled == [quote(0), quote(2)]
    assert vpin.consumer.stats.skipped_taken_over == 2
    assert vpin.consumer.stats.renewed == 1


# The priority lanes, looked at between bulk entries (no priority reader).


async def test_a_priority_entry_written_during_a_bulk_batch_is_handled_at_the_next_checkpoint(
    redis_url: str,
) -> None:
    async with Engine(redis_url) as vpin:
        write_quotes(redis_url, 3)
        # Written while quote 0 is handled; the priority lanes are read again after 1 ms.
        vpin.on(quote(0), then(lambda: write_critical(redis_url), sleep_s(0.002)))
        await vpin.consumer.poll()

    assert vpin.handled == [quote(0), CRITICAL, quote(1), quote(2)]


async def test_priority_entries_written_during_a_priority_batch_wait_for_it_to_end(
    redis_url: str,
) -> None:
    # Within a lane, entries are handled in stream order: a priority batch is not interrupted.
    urgent = [quote(100 + i) for i in range(4)]
    async with Engine(redis_url) as vpin:
        for message in urgent[:3]:
            write(redis_url, priority_lane(MARKETDATA), message, MessagePriority.CRITICAL)
        late = then(
            lambda: write(
                redis_url, priority_lane(MARKETDATA), urgent[3], MessagePriority.CRITICAL
            ),
            sleep_s(0.002),
        )
        vpin.on(urgent[0], late)
        await vpin.consumer.poll()
        await vpin.consumer.poll()

    assert vpin.handled == urgent


async def test_fast_bulk_handlers_are_checked_every_32_entries(redis_url: str) -> None:
    # A renewal interval of days: the stride is the maximum for any handler this fast.
    async with Engine(redis_url, reclaim_idle_ms=10**9) as vpin:
        write_quotes(redis_url, 40)
        vpin.on(quote(1), then(lambda: write_critical(redis_url), sleep_s(0.002)))
        await vpin.consumer.poll()

    assert vpin.handled == [
        *(quote(i) for i in range(33)),
        CRITICAL,
        *(quote(i) for i in range(33, 40)),
    ]


async def test_a_handler_slower_than_an_eighth_of_the_renewal_interval_is_checked_after_each_entry(
    redis_url: str,
) -> None:
    async with Engine(redis_url, reclaim_idle_ms=200) as vpin:  # an eighth: 6.25 ms
        write_quotes(redis_url, 4)
        vpin.on(quote(0), sleep_s(0.010))
        vpin.on(quote(1), then(lambda: write_critical(redis_url), sleep_s(0.002)))
        await vpin.consumer.poll()

    assert vpin.handled == [quote(0), quote(1), CRITICAL, quote(2), quote(3)]


async def test_while_a_priority_reader_runs_a_bulk_batch_leaves_the_priority_lanes_to_it(
    redis_url: str,
) -> None:
    async with Engine(redis_url) as vpin:
        write_quotes(redis_url, 3)
        vpin.on(quote(0), then(lambda: write_critical(redis_url), sleep_s(0.002)))
        vpin.consumer.priority_reader_active = True
        await vpin.consumer.poll()

        assert vpin.handled == [quote(0), quote(1), quote(2)]
        assert await vpin.consumer.read_priority_lanes(None) == 1
        assert vpin.handled[-1] == CRITICAL


async def test_under_a_priority_reader_a_bulk_batch_yields_to_the_loop_at_each_checkpoint(
    redis_url: str,
) -> None:
    loop_turns = 0

    async def other_task() -> None:
        nonlocal loop_turns
        while True:
            loop_turns += 1
            await asyncio.sleep(0)

    turns_seen: list[int] = []
    async with Engine(redis_url) as vpin:
        write_quotes(redis_url, 2)
        vpin.on(quote(0), lambda: turns_seen.append(loop_turns))
        vpin.on(quote(1), lambda: turns_seen.append(loop_turns))
        vpin.consumer.priority_reader_active = True
        other = asyncio.create_task(other_task())
        try:
            await vpin.consumer.poll()
        finally:
            other.cancel()
            await asyncio.gather(other, return_exceptions=True)

    # The other task ran once between the two entries: a yield, not a pause.
    first, second = turns_seen
    assert second - first == 1


# Reclaiming what a dead consumer left pending.


def leave_pending(redis_url: str, ids: list[str], idle_ms: int = 3_600_000) -> None:
    """A consumer that died holding `ids`, idle for an hour."""
    with redis.Redis.from_url(redis_url) as connection:
        connection.xreadgroup("vpin", "vpin-dead", {MARKETDATA: ">"}, count=len(ids))
        connection.xclaim(MARKETDATA, "vpin", "vpin-dead", 0, ids, idle=idle_ms, justid=True)


async def test_reclaiming_takes_every_idle_entry_page_by_page(redis_url: str) -> None:
    # A second delivery is within max_deliveries: handled, not dead-lettered.
    async with Engine(redis_url, read_count=2, max_deliveries=2) as vpin:
        leave_pending(redis_url, write_quotes(redis_url, 5))
        processed = await vpin.consumer.reclaim()

    assert processed == 5
    assert vpin.consumer.stats.reclaimed == 5
    assert [d.delivery_count for d in vpin.deliveries] == [2] * 5
    assert pending(redis_url, MARKETDATA) == {}


async def test_a_cycle_reclaims_at_most_every_half_reclaim_idle_time(redis_url: str) -> None:
    async with Engine(redis_url) as vpin:  # reclaim_idle_ms 60 s: due again in 30 s
        await vpin.consumer.poll()
        ids = write_quotes(redis_url, 1)
        leave_pending(redis_url, ids)
        await vpin.consumer.poll()

    assert vpin.handled == []
    assert pending(redis_url, MARKETDATA) == {ids[0]: ("vpin-dead", 1)}


async def test_a_cycle_reclaims_again_once_half_the_reclaim_idle_time_passed(
    redis_url: str,
) -> None:
    async with Engine(redis_url, reclaim_idle_ms=100) as vpin:
        await vpin.consumer.poll()
        leave_pending(redis_url, write_quotes(redis_url, 1))
        await asyncio.sleep(0.06)
        await vpin.consumer.poll()

    assert vpin.handled == [quote(0)]


async def test_an_entry_trimmed_while_pending_is_dropped_from_the_pending_list_with_a_warning(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Engine(redis_url) as vpin:
        ids = write_quotes(redis_url, 2)
        leave_pending(redis_url, ids)
        with redis.Redis.from_url(redis_url) as connection:
            connection.xdel(MARKETDATA, ids[0])
        await vpin.consumer.reclaim()

    assert vpin.handled == [quote(1)]
    assert f"{MARKETDATA}: 1 pending entries were trimmed before being acknowledged" in [
        r.getMessage() for r in caplog.records
    ]


async def test_an_entry_delivered_more_than_max_deliveries_times_is_dead_lettered_unhandled(
    redis_url: str,
) -> None:
    async with Engine(redis_url, max_deliveries=2) as vpin:
        ids = write_quotes(redis_url, 2)
        leave_pending(redis_url, ids)
        with redis.Redis.from_url(redis_url) as connection:  # quote 0: two more that died
            connection.xclaim(MARKETDATA, "vpin", "vpin-dead", 0, ids[:1], idle=3_600_000)
            connection.xclaim(MARKETDATA, "vpin", "vpin-dead", 0, ids[:1], idle=3_600_000)
        await vpin.consumer.reclaim()

    assert vpin.handled == [quote(1)]  # its second delivery
    with redis.Redis.from_url(redis_url) as connection:
        letters = connection.xrange("{" + MARKETDATA + "}:dead-letter")
    assert [fields[b"dl.reason"] for _, fields in letters] == [b"max-deliveries"]
    assert letters[0][1][b"dl.detail"] == b"not acknowledged after 3 deliveries (consumer died?)"
    assert letters[0][1][b"dl.deliveries"] == b"4"


# Replicas: `hold`.


async def test_holding_a_stream_that_is_not_subscribed_is_refused(redis_url: str) -> None:
    async with Engine(redis_url) as vpin:
        with pytest.raises(ValueError, match=r"not subscribed to \['nautilus-vpin-streams'\]"):
            await within(vpin.consumer.hold([MARKETDATA, "nautilus-vpin-streams"]))


async def test_a_replica_reads_only_the_streams_it_holds(redis_url: str) -> None:
    async with Engine(redis_url, features=True) as vpin:
        write(redis_url, FEATURES, features(1), MessagePriority.NORMAL)
        write_quotes(redis_url, 1)
        await within(vpin.consumer.hold([FEATURES]))
        await vpin.consumer.poll()

    assert vpin.handled == [features(1)]
    assert vpin.consumer.held == frozenset({FEATURES})


async def test_a_replica_holding_nothing_reads_nothing(redis_url: str) -> None:
    async with Engine(redis_url) as vpin:
        write_quotes(redis_url, 1)
        await within(vpin.consumer.hold(()))

        # Each waits as long as its read would have (5 ms), then reports nothing.
        assert await within(vpin.consumer.poll(5)) == 0
        assert await within(vpin.consumer.read_priority_lanes(5)) == 0
    assert vpin.handled == []


async def test_a_consumer_subscribed_to_nothing_reads_nothing(redis_url: str) -> None:
    settings = MessageBusConfig(engine="vpin", redis_url=redis_url, trim_interval_ms=0)
    transport = RedisTransport(redis_url)
    consumer = Consumer(transport, settings, LocalTypeResolver())
    write_quotes(redis_url, 1)
    try:
        assert consumer.lanes == ()
        assert await within(consumer.poll(5)) == 0
        assert await within(consumer.read_priority_lanes(5)) == 0
        assert await consumer.reclaim() == 0
    finally:
        await transport.close()


async def test_a_stream_newly_held_is_reclaimed_at_the_next_cycle(redis_url: str) -> None:
    async with Engine(redis_url) as vpin:  # reclaim_idle_ms 60 s: not due again for 30 s
        await vpin.consumer.poll()
        leave_pending(redis_url, write_quotes(redis_url, 1))
        await within(vpin.consumer.hold([MARKETDATA], newly_held=[MARKETDATA]))
        await vpin.consumer.poll()

    assert vpin.handled == [quote(0)]


async def test_letting_a_stream_go_waits_for_the_reads_in_flight_on_it(redis_url: str) -> None:
    entered, released = asyncio.Event(), asyncio.Event()

    async def slow(delivery: Delivery[Quote]) -> None:
        entered.set()
        await released.wait()

    settings = MessageBusConfig(
        engine="vpin", consumer_name="vpin-1", redis_url=redis_url, trim_interval_ms=0
    )
    transport = RedisTransport(redis_url)
    consumer = Consumer(transport, settings, LocalTypeResolver())
    consumer.subscribe(message_spec(Quote), slow)
    consumer.subscribe(message_spec(FeatureVector), lambda delivery: None)
    await consumer.ensure_groups()
    write_quotes(redis_url, 1)
    reading = asyncio.create_task(consumer.poll())
    try:
        await within(entered.wait())
        letting_go = asyncio.create_task(consumer.hold([FEATURES]))
        for _ in range(20):
            await asyncio.sleep(0)  # let `hold` run as far as it can: it waits for the read
        assert not letting_go.done()

        released.set()
        await within(letting_go)
        assert pending(redis_url, MARKETDATA) == {}  # handled and acknowledged
    finally:
        released.set()
        await asyncio.gather(reading, return_exceptions=True)
        await transport.close()


async def test_letting_a_stream_go_does_not_wait_for_reads_started_after(redis_url: str) -> None:
    entered = {0: asyncio.Event(), 1: asyncio.Event()}
    released = {0: asyncio.Event(), 1: asyncio.Event()}

    async def blocking(delivery: Delivery[Quote]) -> None:
        number = delivery.message.ts_event == quote(1).ts_event
        entered[number].set()
        await released[number].wait()

    settings = MessageBusConfig(
        engine="vpin", consumer_name="vpin-1", redis_url=redis_url, trim_interval_ms=0
    )
    transport = RedisTransport(redis_url)
    consumer = Consumer(transport, settings, LocalTypeResolver())
    consumer.subscribe(message_spec(Quote), blocking)
    consumer.subscribe(message_spec(FeatureVector), lambda delivery: None)
    await consumer.ensure_groups()
    write_quotes(redis_url, 1)
    before = asyncio.create_task(consumer.poll())
    after: asyncio.Task[int] | None = None
    try:
        await within(entered[0].wait())
        letting_go = asyncio.create_task(consumer.hold([MARKETDATA]))
        write(redis_url, MARKETDATA, quote(1), MessagePriority.NORMAL)
        after = asyncio.create_task(consumer.poll())  # a read under the new leases
        await within(entered[1].wait())

        released[0].set()
        await within(letting_go)
        assert not after.done()
    finally:
        for event in released.values():
            event.set()
        await asyncio.gather(before, *([after] if after else []), return_exceptions=True)
        await transport.close()


async def test_letting_a_stream_go_waits_for_every_read_in_flight_the_priority_reads_too(
    redis_url: str,
) -> None:
    entered = {0: asyncio.Event(), 1: asyncio.Event()}
    released = {0: asyncio.Event(), 1: asyncio.Event()}

    async def blocking(delivery: Delivery[Quote]) -> None:
        number = delivery.message.ts_event == CRITICAL.ts_event
        entered[number].set()
        await released[number].wait()

    settings = MessageBusConfig(
        engine="vpin", consumer_name="vpin-1", redis_url=redis_url, trim_interval_ms=0
    )
    transport = RedisTransport(redis_url)
    consumer = Consumer(transport, settings, LocalTypeResolver())
    consumer.subscribe(message_spec(Quote), blocking)
    consumer.subscribe(message_spec(FeatureVector), lambda delivery: None)
    await consumer.ensure_groups()
    write_quotes(redis_url, 1)
    consumer.priority_reader_active = True  # the cycle reads the bulk lanes, the reader the rest
    bulk = asyncio.create_task(consumer.poll())
    priority: asyncio.Task[int] | None = None
    try:
        await within(entered[0].wait())
        write_critical(redis_url)
        priority = asyncio.create_task(consumer.read_priority_lanes(None))
        await within(entered[1].wait())
        released[0].set()
        await within(bulk)

        letting_go = asyncio.create_task(consumer.hold([FEATURES]))
        for _ in range(20):
            await asyncio.sleep(0)  # let `hold` run as far as it can: it waits for the read
        assert not letting_go.done()
        released[1].set()
        await within(letting_go)
        assert await within(priority) == 1
    finally:
        for event in released.values():
            event.set()
        await asyncio.gather(bulk, *([priority] if priority else []), return_exceptions=True)
        await transport.close()
