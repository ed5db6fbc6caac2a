"""One consumer on a real server: its consume loop (`Consumer.run`: how it waits, retries an
unreachable server, survives an error escaping a cycle, sweeps stale consumers), what a cycle reads
and when it blocks, what it tells its observer and its log, and leaving the group."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

import pytest
import redis
from google.protobuf.message import Message

from nautilus.analytics.v1.analytics_pb2 import TrendUpdate
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import (
    MessageBusConfig,
    MessagePriority,
    UniversalMessageBusClient,
    priority_lane,
)
from nautilus.runtime.consumer import Consumer
from nautilus.runtime.delivery import Delivery, Handler
from nautilus.runtime.errors import DeadLetterReason, TransportError
from nautilus.runtime.lanes import retry_lane
from nautilus.runtime.resolver import LocalTypeResolver
from nautilus.runtime.routing import message_spec
from nautilus.runtime.server import EmbeddedServer
from nautilus.runtime.transport.redis import RedisTransport
from nautilus.runtime.wire import encode_entry

from .conftest import quote

MARKETDATA = "nautilus-marketdata-streams"
ANALYTICS = "nautilus-analytics-streams"
CONSUMER_LOG = "nautilus.runtime.consumer"


def config(redis_url: str, **overrides: Any) -> MessageBusConfig:
    settings: dict[str, Any] = {
        "engine": "risk",
        "consumer_name": "risk-loop",
        "redis_url": redis_url,
        "read_block_ms": 20,
        "reclaim_idle_ms": 60_000,
        "trim_interval_ms": 0,
        "reconnect_initial_ms": 1,
        "reconnect_max_ms": 4,
    }
    settings.update(overrides)
    return MessageBusConfig(**settings)


class CountingTransport(RedisTransport):
    """The real transport, counting failed attempts to create a group: a loop that has never
    reached its server starts every cycle by creating its groups, so each failed cycle is one."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.failed_group_creations = 0

    async def ensure_group(self, key: str, group: str) -> None:
        try:
            await super().ensure_group(key, group)
        except TransportError:
            self.failed_group_creations += 1
            raise


class Recorder(logging.Handler):
    """Keeps the consumer's log records, each with a value read when it was emitted."""

    def __init__(self, at_emit: Callable[[], int] = lambda: 0) -> None:
        super().__init__(logging.DEBUG)
        self._at_emit = at_emit
        self.records: list[tuple[int, logging.LogRecord]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((self._at_emit(), record))

    def messages(self, level: int, containing: str = "") -> list[str]:
        return [
            r.getMessage()
            for _, r in self.records
            if r.levelno == level and containing in r.getMessage()
        ]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    logger = logging.getLogger(CONSUMER_LOG)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def until(condition: Callable[[], bool], what: str, deadline_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline_s
    while not condition():
        assert loop.time() < give_up, f"not within {deadline_s} s: {what}"
        await asyncio.sleep(0.005)


def quote_consumer(
    transport: RedisTransport, settings: MessageBusConfig, handler: Handler[Any]
) -> Consumer:
    consumer = Consumer(transport, settings, LocalTypeResolver())
    consumer.subscribe(message_spec(Quote), handler)
    return consumer


async def publish_quotes(redis_url: str, count: int) -> None:
    producer = UniversalMessageBusClient(
        MessageBusConfig(engine="marketdata", redis_url=redis_url, trim_interval_ms=0)
    )
    await producer.start(consume=False)
    await producer.publish_many(quote(i) for i in range(count))
    await producer.flush()
    await producer.close()


class _Loop:
    """`consumer.run` as a task, stopped and awaited on exit."""

    def __init__(self, consumer: Consumer) -> None:
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(consumer.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def failing_cycles(
    private_server: EmbeddedServer, recorder: Recorder, warnings: int
) -> tuple[str, list[tuple[int, str]]]:
    """Run a loop against a server that is down until it logged `warnings` retry warnings;
    returns its name and, per warning, the failed cycles so far and the message."""
    private_server.kill()
    transport = CountingTransport(private_server.url)
    recorder._at_emit = lambda: transport.failed_group_creations
    settings = config(private_server.url)
    loop = _Loop(quote_consumer(transport, settings, lambda delivery: None))
    try:
        await until(
            lambda: len(recorder.messages(logging.WARNING, "retrying in")) >= warnings,
            f"{warnings} retry warnings",
        )
    finally:
        await loop.close()
        await transport.close()
    logged = [
        (failures, record.getMessage())
        for failures, record in recorder.records
        if record.levelno == logging.WARNING and "retrying in" in record.getMessage()
    ]
    return settings.consumer_name, logged[:warnings]


async def test_an_unreachable_server_is_logged_at_the_first_failed_cycle_then_every_fiftieth(
    private_server: EmbeddedServer, recorder: Recorder
) -> None:
    _, logged = await failing_cycles(private_server, recorder, warnings=3)

    assert [failures for failures, _ in logged] == [1, 50, 100]


async def test_the_retry_warning_names_the_consumer_the_error_and_the_doubling_capped_delay(
    private_server: EmbeddedServer, recorder: Recorder
) -> None:
    name, logged = await failing_cycles(private_server, recorder, warnings=2)

    first, fiftieth = (message for _, message in logged)
    assert first.startswith(f"consumer {name}: CLUSTER SLOTS: ")
    assert first.endswith("; retrying in 0.001s")
    assert fiftieth.startswith(f"consumer {name}: CLUSTER SLOTS: ")
    assert fiftieth.endswith("; retrying in 0.004s")


class FailingMetrics:
    """A delivery observer (metrics) that raises on chosen handlings: an error escaping a cycle
    after the handler succeeded, which the loop does not expect."""

    def __init__(self, failing: set[int], error: BaseException) -> None:
        self.failing = failing
        self.error = error
        self.observed = 0

    def observe(self, delivery: Delivery[Any], handler_seconds: float) -> None:
        self.observed += 1
        if self.observed in self.failing:
            raise self.error

    def dead_lettered(self, lane: str, reason: DeadLetterReason) -> None:
        return None


async def run_with_failing_metrics(
    redis_url: str, quotes: int, metrics: FailingMetrics, groups_created: list[int] | None = None
) -> tuple[Consumer, list[Quote]]:
    """A loop reading one entry per cycle until it handled `quotes` quotes; `groups_created`
    gets how many times the loop created a group meanwhile (XGROUP CREATE on the server)."""
    handled: list[Quote] = []
    transport = RedisTransport(redis_url)
    consumer = quote_consumer(
        transport, config(redis_url, read_count=1), lambda d: handled.append(d.message)
    )
    consumer.observer = metrics
    await consumer.ensure_groups()
    await publish_quotes(redis_url, quotes)
    creations = calls(redis_url, "xgroup")
    loop = _Loop(consumer)
    try:
        await until(lambda: len(handled) == quotes, f"{quotes} quotes handled")
        await until(lambda: metrics.observed == quotes, "every handling observed")
        assert not loop.task.done()
    finally:
        await loop.close()
        await transport.close()
    if groups_created is not None:
        groups_created.append(calls(redis_url, "xgroup") - creations)
    return consumer, handled


async def test_an_error_escaping_a_cycle_is_counted_and_the_loop_goes_on(redis_url: str) -> None:
    metrics = FailingMetrics({1, 2}, RuntimeError("metrics backend down"))
    consumer, handled = await run_with_failing_metrics(redis_url, 3, metrics)

    assert handled == [quote(0), quote(1), quote(2)]
    assert consumer.stats.loop_restarts == 2


async def test_a_failed_cycle_is_logged_with_its_error_and_the_backoff_before_the_next(
    redis_url: str, recorder: Recorder
) -> None:
    error = RuntimeError("metrics backend down")
    # Two failures in a row, a cycle that succeeds (the backoff starts again), a third failure.
    consumer, _ = await run_with_failing_metrics(redis_url, 4, FailingMetrics({1, 2, 4}, error))

    errors = [record for _, record in recorder.records if record.levelno == logging.ERROR]
    name = consumer.name
    assert [record.getMessage() for record in errors] == [
        f"consumer {name}: cycle failed ({error!r}); starting again in 0.001s",
        f"consumer {name}: cycle failed ({error!r}); starting again in 0.002s",
        f"consumer {name}: cycle failed ({error!r}); starting again in 0.001s",
    ]
    assert all(record.exc_info and record.exc_info[1] is error for record in errors)


async def test_after_a_failed_cycle_the_loop_creates_its_groups_again(redis_url: str) -> None:
    # The server may have lost them (a restart): the next cycle makes sure they exist.
    created: list[int] = []
    metrics = FailingMetrics({1, 2}, RuntimeError("metrics backend down"))
    consumer, _ = await run_with_failing_metrics(redis_url, 3, metrics, created)

    assert created == [2 * len(consumer.lanes)]


async def test_a_cancelled_error_escaping_a_cycle_does_not_stop_the_loop(redis_url: str) -> None:
    metrics = FailingMetrics({1}, asyncio.CancelledError("not the loop's own cancellation"))
    consumer, handled = await run_with_failing_metrics(redis_url, 2, metrics)

    assert handled == [quote(0), quote(1)]
    assert consumer.stats.loop_restarts == 1


def blocked_reads(redis_url: str) -> list[dict[str, Any]]:
    with redis.Redis.from_url(redis_url) as connection:
        clients: list[dict[str, Any]] = connection.client_list()
    return [c for c in clients if c.get("cmd") == "xreadgroup" and "b" in c.get("flags", "")]


async def test_an_idle_loop_waits_for_entries_in_a_blocking_read_on_the_server(
    redis_url: str,
) -> None:
    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url, read_block_ms=60_000), print)
    loop = _Loop(consumer)
    try:
        await until(lambda: bool(blocked_reads(redis_url)), "a blocked XREADGROUP")
    finally:
        await loop.close()
        await transport.close()


def calls(redis_url: str, command: str) -> int:
    with redis.Redis.from_url(redis_url) as connection:
        stats: dict[str, dict[str, int]] = connection.info("commandstats")
    return sum(
        int(value["calls"])
        for name, value in stats.items()
        if name.removeprefix("cmdstat_").split("|")[0] == command
    )


async def test_the_loop_looks_for_stale_consumers_only_once_their_idle_limit_is_half_over(
    redis_url: str,
) -> None:
    transport = RedisTransport(redis_url)
    settings = config(redis_url, read_block_ms=1, stale_consumer_idle_ms=600_000)
    # The session's server counts every command since it started: only differences count here.
    reads, looks = calls(redis_url, "xreadgroup"), calls(redis_url, "xinfo")
    loop = _Loop(quote_consumer(transport, settings, print))
    try:
        await until(lambda: calls(redis_url, "xreadgroup") - reads >= 100, "100 reads")
    finally:
        await loop.close()
        await transport.close()

    assert calls(redis_url, "xinfo") == looks


async def test_the_loop_creates_its_groups_once_not_every_cycle(redis_url: str) -> None:
    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url, read_block_ms=1), print)
    await consumer.ensure_groups()
    reads, creations = calls(redis_url, "xreadgroup"), calls(redis_url, "xgroup")
    loop = _Loop(consumer)
    try:
        await until(lambda: calls(redis_url, "xreadgroup") - reads >= 100, "100 reads")
    finally:
        await loop.close()
        await transport.close()

    assert calls(redis_url, "xgroup") == creations


def consumers(redis_url: str, lane: str) -> set[str]:
    with redis.Redis.from_url(redis_url) as connection:
        return {c["name"].decode() for c in connection.xinfo_consumers(lane, "risk")}


GHOSTS = ["risk-ghost-1", "risk-ghost-2"]


async def test_the_sweep_removes_idle_consumers_from_every_lane_and_says_so(
    redis_url: str, recorder: Recorder
) -> None:
    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url, stale_consumer_idle_ms=100), print)
    await consumer.ensure_groups()
    lanes = [priority_lane(MARKETDATA), retry_lane(MARKETDATA, "risk"), MARKETDATA]
    assert sorted(consumer.lanes) == sorted(lanes)
    with redis.Redis.from_url(redis_url) as connection:
        for lane in lanes:
            for ghost in GHOSTS:
                connection.xgroup_createconsumer(lane, "risk", ghost)
    loop = _Loop(consumer)
    try:
        await until(
            lambda: all(not consumers(redis_url, lane) & set(GHOSTS) for lane in lanes),
            "every ghost removed from every lane",
        )
    finally:
        await loop.close()
        await transport.close()

    for lane in lanes:
        prefix, suffix = f"{lane}: removed stale consumers ", " from risk"
        said = [m for m in recorder.messages(logging.INFO) if m.startswith(prefix)]
        assert said
        assert all(m.endswith(suffix) for m in said)
        removed = {n for m in said for n in ast.literal_eval(m[len(prefix) : -len(suffix)])}
        assert removed >= set(GHOSTS)


async def test_a_sweep_the_server_refuses_is_skipped_with_a_warning_and_the_loop_goes_on(
    private_server: EmbeddedServer, recorder: Recorder
) -> None:
    with redis.Redis.from_url(private_server.url) as connection:
        connection.execute_command("ACL", "SETUSER", "risk", "on", ">s3cret", "~*", "&*", "+@all")
        connection.execute_command("ACL", "SETUSER", "risk", "-xinfo")
    url = private_server.url.replace("redis://", "redis://risk:s3cret@")
    transport = RedisTransport(url)
    handled: list[Quote] = []
    settings = config(url, stale_consumer_idle_ms=20)
    consumer = quote_consumer(transport, settings, lambda d: handled.append(d.message))
    loop = _Loop(consumer)
    try:
        await until(lambda: bool(recorder.messages(logging.WARNING, "sweep")), "a skipped sweep")
        await publish_quotes(private_server.url, 1)
        await until(lambda: handled == [quote(0)], "the quote handled")
    finally:
        await loop.close()
        await transport.close()

    skipped = recorder.messages(logging.WARNING, "sweep")[0]
    assert skipped.startswith(f"consumer {settings.consumer_name}: stale consumer sweep skipped: ")
    assert "no permissions" in skipped
    assert consumer.stats.loop_restarts == 0


def test_a_new_consumers_counters_start_at_zero(redis_url: str) -> None:
    consumer = quote_consumer(RedisTransport(redis_url), config(redis_url), print)

    stats = consumer.stats
    assert {name: getattr(stats, name) for name in stats.__slots__} == dict.fromkeys(
        stats.__slots__, 0
    )


class RecordingMetrics:
    """A delivery observer that keeps what it is told."""

    def __init__(self) -> None:
        self.observed: list[tuple[Any, float]] = []
        self.dead_letters: list[tuple[str, DeadLetterReason]] = []

    def observe(self, delivery: Delivery[Any], handler_seconds: float) -> None:
        self.observed.append((delivery.message, handler_seconds))

    def dead_lettered(self, lane: str, reason: DeadLetterReason) -> None:
        self.dead_letters.append((lane, reason))


async def test_the_observer_is_told_of_each_handling_with_the_time_its_handler_took(
    redis_url: str,
) -> None:
    def handler(delivery: Delivery[Quote]) -> None:
        if delivery.message == quote(0):
            time.sleep(0.01)

    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url, engine="vpin"), handler)
    consumer.observer = metrics = RecordingMetrics()
    await consumer.ensure_groups()
    await publish_quotes(redis_url, 2)
    started = time.perf_counter()
    await consumer.poll()
    cycle_s = time.perf_counter() - started
    await transport.close()

    assert [message for message, _ in metrics.observed] == [quote(0), quote(1)]
    slow, fast = (seconds for _, seconds in metrics.observed)
    assert 0.01 <= slow <= cycle_s  # the handler's sleep at least, within the cycle
    assert 0 <= fast <= cycle_s


async def test_a_dead_letter_is_told_to_the_observer_and_logged_with_its_reason_and_detail(
    redis_url: str, recorder: Recorder
) -> None:
    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url, engine="vpin"), print)
    consumer.observer = metrics = RecordingMetrics()
    await consumer.ensure_groups()
    spec = message_spec(Quote)
    fields = encode_entry(
        spec.type_bytes,
        spec.fingerprint.encode(),
        b"\xff\xff not a quote",
        producer=b"marketdata",
        published_at_ns=0,
        priority=MessagePriority.NORMAL,
    )
    with redis.Redis.from_url(redis_url) as connection:
        entry_id = connection.xadd(MARKETDATA, dict(zip(fields[::2], fields[1::2], strict=True)))
    await consumer.poll()
    await transport.close()

    assert metrics.dead_letters == [(MARKETDATA, DeadLetterReason.UNDECODABLE)]
    (logged,) = recorder.messages(logging.WARNING, "dead-lettered")
    prefix = f"{MARKETDATA} {entry_id.decode()} dead-lettered: undecodable: "
    assert logged.startswith(prefix + "payload is not a valid nautilus.marketdata.v1.Quote: ")


async def test_a_failed_handling_that_will_be_retried_is_logged_with_its_delivery(
    redis_url: str, recorder: Recorder
) -> None:
    def handler(delivery: Delivery[Quote]) -> None:
        raise RuntimeError("not yet")

    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url, engine="vpin"), handler)
    await consumer.ensure_groups()
    await publish_quotes(redis_url, 1)
    with redis.Redis.from_url(redis_url) as connection:
        ((entry_id, _),) = connection.xrange(MARKETDATA)
    await consumer.poll()
    await transport.close()

    assert recorder.messages(logging.WARNING) == [
        f"{MARKETDATA} {entry_id.decode()}: handler failed on delivery 1: RuntimeError('not yet')"
    ]


async def test_cancelling_the_loop_while_a_handler_awaits_cancels_it_without_failing_the_entry(
    redis_url: str,
) -> None:
    entered = asyncio.Event()

    async def handler(delivery: Delivery[Quote]) -> None:
        entered.set()
        await asyncio.Event().wait()

    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url, engine="vpin"), handler)
    await consumer.ensure_groups()
    await publish_quotes(redis_url, 1)
    loop = _Loop(consumer)
    try:
        await asyncio.wait_for(entered.wait(), timeout=30)
        loop.task.cancel()
        await asyncio.wait({loop.task}, timeout=30)

        assert loop.task.cancelled()
        assert consumer.stats.failed == 0
    finally:
        await loop.close()
        await transport.close()


async def test_each_dead_letter_is_counted(redis_url: str) -> None:
    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url, engine="vpin"), print)
    await consumer.ensure_groups()
    spec = message_spec(Quote)
    with redis.Redis.from_url(redis_url) as connection:
        for garbage in (b"\xff", b"\xff\xff"):
            fields = encode_entry(
                spec.type_bytes,
                spec.fingerprint.encode(),
                garbage,
                producer=b"marketdata",
                published_at_ns=0,
                priority=MessagePriority.NORMAL,
            )
            connection.xadd(MARKETDATA, dict(zip(fields[::2], fields[1::2], strict=True)))
    await consumer.poll()
    await transport.close()

    assert consumer.stats.dead_lettered == 2


async def test_a_priority_read_waits_on_the_server_until_a_priority_entry_comes(
    redis_url: str,
) -> None:
    handled: list[Quote] = []
    transport = RedisTransport(redis_url)
    consumer = quote_consumer(transport, config(redis_url), lambda d: handled.append(d.message))
    await consumer.ensure_groups()
    reading = asyncio.create_task(consumer.read_priority_lanes(60_000))
    try:
        await until(lambda: bool(blocked_reads(redis_url)), "a blocked XREADGROUP")
        assert not reading.done()
        urgent = UniversalMessageBusClient(
            MessageBusConfig(engine="marketdata", redis_url=redis_url, trim_interval_ms=0)
        )
        await urgent.start(consume=False)
        await urgent.publish(quote(7), priority=MessagePriority.CRITICAL)
        await urgent.flush()
        await urgent.close()

        assert await asyncio.wait_for(reading, timeout=30) == 1
        assert handled == [quote(7)]
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        await transport.close()


async def test_the_priority_read_creates_the_groups_again_after_a_server_restart(
    private_server: EmbeddedServer,
) -> None:
    handled: list[Quote] = []
    url = private_server.url
    transport = RedisTransport(url)
    consumer = quote_consumer(transport, config(url), lambda d: handled.append(d.message))
    assert await consumer.read_priority_lanes(None) == 0
    private_server.kill()
    private_server.start()  # an empty server: the groups are gone
    urgent = UniversalMessageBusClient(
        MessageBusConfig(
            engine="marketdata", redis_url=url, trim_interval_ms=0, declare_consumer_groups=False
        )
    )
    await urgent.start(consume=False)
    await urgent.publish(quote(7), priority=MessagePriority.CRITICAL)
    await urgent.flush()
    await urgent.close()

    async def first_read_that_works() -> int:
        while True:
            try:
                return await consumer.read_priority_lanes(None)
            except TransportError:
                await asyncio.sleep(0.01)

    try:
        read = await asyncio.wait_for(first_read_that_works(), timeout=30)
    finally:
        await transport.close()
    # The new group reads the lane from its start: the entry written before it is delivered.
    assert (read, handled) == (1, [quote(7)])


async def test_what_a_plain_handler_returns_is_ignored(redis_url: str) -> None:
    transport = RedisTransport(redis_url)
    # An untyped caller's handler may return anything: only an awaitable is awaited.
    returns_a_list = cast(Handler[Any], lambda delivery: [delivery])
    consumer = quote_consumer(transport, config(redis_url, engine="vpin"), returns_a_list)
    await consumer.ensure_groups()
    await publish_quotes(redis_url, 1)
    await consumer.poll()
    await transport.close()

    assert (consumer.stats.handled, consumer.stats.failed) == (1, 0)


def raw_write(redis_url: str, lane: str, message: Any, priority: MessagePriority) -> None:
    """XADD one entry as the producer of the message's route writes it."""
    spec = message_spec(type(message))
    fields = encode_entry(
        spec.type_bytes,
        spec.fingerprint.encode(),
        message.SerializeToString(),
        producer=spec.route.producer.encode(),
        published_at_ns=0,
        priority=priority,
    )
    with redis.Redis.from_url(redis_url) as connection:
        connection.xadd(lane, dict(zip(fields[::2], fields[1::2], strict=True)))


TREND = TrendUpdate(instrument_id="AAPL.XNAS")


@contextlib.asynccontextmanager
async def transport_to(redis_url: str) -> AsyncIterator[RedisTransport]:
    transport = RedisTransport(redis_url)
    try:
        yield transport
    finally:
        await transport.close()


def risk_on_quotes_and_trends(
    transport: RedisTransport, redis_url: str, handled: list[Any]
) -> Consumer:
    """Risk reads quotes best effort (NOACK) and trends at least once: two reads per cycle."""
    consumer = quote_consumer(transport, config(redis_url), lambda d: handled.append(d.message))
    consumer.subscribe(message_spec(TrendUpdate), lambda d: handled.append(d.message))
    return consumer


async def blocks_on_the_server(redis_url: str, consumer: Consumer) -> None:
    """A cycle with nothing to read waits in a blocking XREADGROUP (then it is cancelled)."""
    polling = asyncio.create_task(consumer.poll(60_000))
    try:
        await until(lambda: bool(blocked_reads(redis_url)), "a blocked XREADGROUP")
    finally:
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)


@pytest.mark.parametrize("engine", ["risk", "vpin"])
async def test_an_idle_cycle_waits_in_a_blocking_read_with_or_without_best_effort_lanes(
    redis_url: str, engine: str
) -> None:
    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(transport, config(redis_url, engine=engine), print)
        assert consumer.reads_best_effort == (engine == "risk")
        await consumer.ensure_groups()
        await blocks_on_the_server(redis_url, consumer)


async def test_with_a_priority_reader_an_idle_cycle_waits_on_the_bulk_lanes(
    redis_url: str,
) -> None:
    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(transport, config(redis_url, engine="vpin"), print)
        consumer.priority_reader_active = True
        await consumer.ensure_groups()
        await blocks_on_the_server(redis_url, consumer)


def best_effort_reader(
    transport: RedisTransport, redis_url: str, handled: list[Any], **overrides: Any
) -> Consumer:
    """Risk on quotes (a NOACK bulk lane), cycling as the consume loop does beside its priority
    reader: only the bulk lanes and the retry lane are the cycle's to read."""
    settings = config(redis_url, **overrides)
    consumer = quote_consumer(transport, settings, lambda d: handled.append(d.message))
    consumer.priority_reader_active = True
    return consumer


async def test_a_best_effort_cycle_that_keeps_up_reads_its_lanes_in_one_command(
    redis_url: str,
) -> None:
    handled: list[Any] = []
    async with transport_to(redis_url) as transport:
        consumer = best_effort_reader(transport, redis_url, handled, read_block_ms=600_000)
        await consumer.ensure_groups()
        raw_write(redis_url, MARKETDATA, quote(0), MessagePriority.NORMAL)
        assert await consumer.poll(None) == 1  # the first cycle looks at the retry lane too
        reads = calls(redis_url, "xreadgroup")

        for seq in range(1, 5):
            raw_write(redis_url, MARKETDATA, quote(seq), MessagePriority.NORMAL)
            assert await consumer.poll(None) == 1

        # One NOACK read a cycle; the empty retry lane costs no command of its own.
        assert calls(redis_url, "xreadgroup") - reads == 4
    assert handled == [quote(seq) for seq in range(5)]


async def test_a_best_effort_cycle_reads_its_retry_lane_once_the_bulk_lane_runs_dry(
    redis_url: str,
) -> None:
    handled: list[Any] = []
    retry = retry_lane(MARKETDATA, "risk")
    async with transport_to(redis_url) as transport:
        consumer = best_effort_reader(transport, redis_url, handled, read_block_ms=600_000)
        await consumer.ensure_groups()
        raw_write(redis_url, MARKETDATA, quote(0), MessagePriority.NORMAL)
        assert await consumer.poll(None) == 1
        raw_write(redis_url, retry, quote(7), MessagePriority.NORMAL)  # a replayed dead letter
        raw_write(redis_url, MARKETDATA, quote(1), MessagePriority.NORMAL)

        polls = [await consumer.poll(None) for _ in range(3)]

    assert polls == [1, 0, 1]  # bulk; bulk found nothing; the retry lane at the next cycle
    assert handled == [quote(0), quote(1), quote(7)]
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.xpending(retry, "risk")["pending"] == 0  # read and acknowledged


async def test_a_best_effort_cycle_reads_its_retry_lane_while_the_bulk_lane_never_runs_dry(
    redis_url: str,
) -> None:
    handled: list[Any] = []
    retry = retry_lane(MARKETDATA, "risk")
    async with transport_to(redis_url) as transport:
        consumer = best_effort_reader(transport, redis_url, handled, read_block_ms=1)
        await consumer.ensure_groups()
        raw_write(redis_url, MARKETDATA, quote(0), MessagePriority.NORMAL)
        assert await consumer.poll(None) == 1
        raw_write(redis_url, retry, quote(7), MessagePriority.NORMAL)
        deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
        seq = 0
        while quote(7) not in handled:
            assert time.monotonic() < deadline, "the retry lane was never read"
            seq += 1
            raw_write(redis_url, MARKETDATA, quote(seq), MessagePriority.NORMAL)
            await consumer.poll(None)

    assert handled.count(quote(7)) == 1
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.xpending(retry, "risk")["pending"] == 0


async def test_acknowledged_lanes_beside_best_effort_ones_are_read_every_cycle(
    redis_url: str,
) -> None:
    handled: list[Any] = []
    async with transport_to(redis_url) as transport:
        consumer = risk_on_quotes_and_trends(transport, redis_url, handled)
        consumer.priority_reader_active = True
        await consumer.ensure_groups()
        raw_write(redis_url, MARKETDATA, quote(0), MessagePriority.NORMAL)
        assert await consumer.poll(None) == 1
        retry = retry_lane(MARKETDATA, "risk")
        raw_write(redis_url, retry, quote(7), MessagePriority.NORMAL)
        raw_write(redis_url, ANALYTICS, TREND, MessagePriority.NORMAL)
        raw_write(redis_url, MARKETDATA, quote(1), MessagePriority.NORMAL)
        reads = calls(redis_url, "xreadgroup")

        # The trends' lane is read anyway, so the quotes' retry lane comes along in that read.
        assert await consumer.poll(None) == 3
        assert calls(redis_url, "xreadgroup") - reads == 2
    assert handled == [quote(0), quote(7), quote(1), TREND]


async def test_a_best_effort_cycle_keeps_reading_its_retry_lane_while_it_returns_entries(
    redis_url: str,
) -> None:
    handled: list[Any] = []
    retry = retry_lane(MARKETDATA, "risk")
    async with transport_to(redis_url) as transport:
        consumer = best_effort_reader(
            transport, redis_url, handled, read_block_ms=600_000, read_count=2
        )
        await consumer.ensure_groups()
        for seq in (7, 8, 9):
            raw_write(redis_url, retry, quote(seq), MessagePriority.NORMAL)
        raw_write(redis_url, MARKETDATA, quote(0), MessagePriority.NORMAL)
        raw_write(redis_url, MARKETDATA, quote(1), MessagePriority.NORMAL)
        raw_write(redis_url, MARKETDATA, quote(2), MessagePriority.NORMAL)

        assert await consumer.poll(None) == 4  # two replayed entries, two quotes
        assert await consumer.poll(None) == 2  # the last replayed entry, the last quote

    assert handled == [quote(7), quote(8), quote(0), quote(1), quote(9), quote(2)]


async def test_entries_of_both_reads_are_handled_in_lane_order(redis_url: str) -> None:
    handled: list[Any] = []
    async with transport_to(redis_url) as transport:
        consumer = risk_on_quotes_and_trends(transport, redis_url, handled)
        await consumer.ensure_groups()
        raw_write(redis_url, ANALYTICS, TREND, MessagePriority.NORMAL)
        raw_write(redis_url, MARKETDATA, quote(1), MessagePriority.NORMAL)
        # Market data was subscribed first: its lane comes first, though read second (NOACK).
        assert await consumer.poll(None) == 2

    assert handled == [quote(1), TREND]


# Each of these cycles would wait a minute if it blocked: the deadline is shorter.


async def test_a_cycle_that_found_acknowledged_entries_does_not_wait_on_its_best_effort_lane(
    redis_url: str,
) -> None:
    handled: list[Any] = []
    async with transport_to(redis_url) as transport:
        consumer = risk_on_quotes_and_trends(transport, redis_url, handled)
        await consumer.ensure_groups()
        raw_write(redis_url, ANALYTICS, TREND, MessagePriority.NORMAL)

        assert await asyncio.wait_for(consumer.poll(60_000), timeout=20) == 1
    assert handled == [TREND]


async def test_a_cycle_that_found_priority_entries_does_not_wait_for_bulk_ones(
    redis_url: str,
) -> None:
    handled: list[Any] = []
    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(transport, config(redis_url), lambda d: handled.append(d.message))
        await consumer.ensure_groups()
        raw_write(redis_url, priority_lane(MARKETDATA), quote(9), MessagePriority.CRITICAL)

        assert await asyncio.wait_for(consumer.poll(60_000), timeout=20) == 1
    assert handled == [quote(9)]


def leave_idle_pending(redis_url: str, group: str) -> None:
    """A consumer of `group` that died an hour ago holding one trend."""
    raw_write(redis_url, ANALYTICS, TREND, MessagePriority.NORMAL)
    with redis.Redis.from_url(redis_url) as connection:
        connection.xgroup_create(ANALYTICS, group, id="0", mkstream=True)
        ((_, entries),) = connection.xreadgroup(group, f"{group}-dead", {ANALYTICS: ">"})
        ids = [entry_id for entry_id, _ in entries]
        connection.xclaim(ANALYTICS, group, f"{group}-dead", 0, ids, idle=3_600_000, justid=True)


@pytest.mark.parametrize("reader", [False, True], ids=["cycle", "with-priority-reader"])
async def test_a_cycle_that_reclaimed_entries_does_not_wait_for_new_ones(
    redis_url: str, reader: bool
) -> None:
    handled: list[Any] = []
    leave_idle_pending(redis_url, "risk")
    async with transport_to(redis_url) as transport:
        consumer = risk_on_quotes_and_trends(transport, redis_url, handled)
        consumer.priority_reader_active = reader
        await consumer.ensure_groups()

        assert await asyncio.wait_for(consumer.poll(60_000), timeout=20) == 1
    assert handled == [TREND]


def join_every_lane(redis_url: str, consumer: Consumer, *others: str) -> None:
    """Make `consumer` (and `others`) members of the group on every lane, as reading does."""
    with redis.Redis.from_url(redis_url) as connection:
        for lane in consumer.lanes:
            for name in (consumer.name, *others):
                connection.xgroup_createconsumer(lane, consumer.config.consumer_group, name)


async def test_leaving_removes_this_consumer_from_every_lane_and_no_other(redis_url: str) -> None:
    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(transport, config(redis_url), print)
        await consumer.ensure_groups()
        join_every_lane(redis_url, consumer, "risk-other")

        left = await consumer.leave()

    assert sorted(left) == sorted(consumer.lanes)
    assert all(consumers(redis_url, lane) == {"risk-other"} for lane in consumer.lanes)


async def test_a_consumer_stays_a_member_of_the_lanes_where_it_holds_entries(
    redis_url: str,
) -> None:
    def fail(delivery: Delivery[Quote]) -> None:
        raise RuntimeError("handler bug")

    async with transport_to(redis_url) as transport:
        # VPIN reads quotes acknowledging: a failed one stays pending with this consumer.
        consumer = quote_consumer(transport, config(redis_url, engine="vpin"), fail)
        await consumer.ensure_groups()
        join_every_lane(redis_url, consumer)
        await publish_quotes(redis_url, 1)
        await consumer.poll(None)

        left = await consumer.leave()

    assert sorted(left) == sorted(lane for lane in consumer.lanes if lane != MARKETDATA)


class CountingResolver:
    """The local resolver, counting what it is asked."""

    def __init__(self) -> None:
        self.local = LocalTypeResolver()
        self.asked: list[tuple[str, str]] = []

    async def resolve(self, message_type: str, writer_fingerprint: str) -> type[Message]:
        self.asked.append((message_type, writer_fingerprint))
        return await self.local.resolve(message_type, writer_fingerprint)


async def test_a_type_and_fingerprint_are_resolved_once_then_remembered(redis_url: str) -> None:
    resolver = CountingResolver()
    async with transport_to(redis_url) as transport:
        consumer = Consumer(transport, config(redis_url, engine="vpin"), resolver)
        consumer.subscribe(message_spec(Quote), lambda delivery: None)
        await consumer.ensure_groups()
        await publish_quotes(redis_url, 3)
        assert await consumer.poll(None) == 3

    assert resolver.asked == [("nautilus.marketdata.v1.Quote", message_spec(Quote).fingerprint)]


async def test_a_delivery_names_the_entry_lane_and_stream_it_came_from(redis_url: str) -> None:
    deliveries: list[Delivery[Any]] = []
    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(transport, config(redis_url, engine="vpin"), deliveries.append)
        await consumer.ensure_groups()
        raw_write(redis_url, priority_lane(MARKETDATA), quote(1), MessagePriority.CRITICAL)
        await publish_quotes(redis_url, 1)
        with redis.Redis.from_url(redis_url) as connection:
            ids = [
                entry_id.decode()
                for lane in (priority_lane(MARKETDATA), MARKETDATA)
                for entry_id, _ in connection.xrange(lane)
            ]
        await consumer.poll(None)

    assert [(d.entry_id, d.lane, d.stream) for d in deliveries] == [
        (ids[0], priority_lane(MARKETDATA), MARKETDATA),
        (ids[1], MARKETDATA, MARKETDATA),
    ]


async def test_each_failed_handling_is_counted(redis_url: str) -> None:
    def fail(delivery: Delivery[Quote]) -> None:
        raise RuntimeError("not yet")

    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(transport, config(redis_url, engine="vpin"), fail)
        await consumer.ensure_groups()
        await publish_quotes(redis_url, 2)
        await consumer.poll(None)

    assert consumer.stats.failed == 2


async def test_a_type_routed_on_another_stream_is_dead_lettered_naming_both_streams(
    redis_url: str,
) -> None:
    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(transport, config(redis_url, engine="vpin"), print)
        await consumer.ensure_groups()
        raw_write(redis_url, MARKETDATA, TREND, MessagePriority.NORMAL)
        await consumer.poll(None)

    with redis.Redis.from_url(redis_url) as connection:
        ((_, letter),) = connection.xrange("{" + MARKETDATA + "}:dead-letter")
    assert letter[b"dl.reason"] == b"misrouted"
    assert letter[b"dl.detail"] == (
        b"nautilus.analytics.v1.TrendUpdate is routed on nautilus-analytics-streams, "
        b"not nautilus-marketdata-streams"
    )


async def test_an_entry_naming_another_producer_is_dead_lettered_naming_both(
    redis_url: str,
) -> None:
    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(transport, config(redis_url, engine="vpin"), print)
        await consumer.ensure_groups()
        spec = message_spec(Quote)
        fields = encode_entry(
            spec.type_bytes,
            spec.fingerprint.encode(),
            quote(1).SerializeToString(),
            producer=b"vpin",
            published_at_ns=0,
            priority=MessagePriority.NORMAL,
        )
        with redis.Redis.from_url(redis_url) as connection:
            connection.xadd(MARKETDATA, dict(zip(fields[::2], fields[1::2], strict=True)))
        await consumer.poll(None)

    with redis.Redis.from_url(redis_url) as connection:
        ((_, letter),) = connection.xrange("{" + MARKETDATA + "}:dead-letter")
    assert letter[b"dl.reason"] == b"misrouted"
    assert letter[b"dl.detail"] == (
        b"nautilus.marketdata.v1.Quote on nautilus-marketdata-streams comes from 'marketdata', "
        b"this entry names producer 'vpin'"
    )


@pytest.mark.parametrize("reader", [False, True], ids=["cycle", "with-priority-reader"])
async def test_a_cycle_counts_what_it_reclaimed_and_what_it_read(
    redis_url: str, reader: bool
) -> None:
    handled: list[Any] = []
    leave_idle_pending(redis_url, "risk")
    async with transport_to(redis_url) as transport:
        consumer = risk_on_quotes_and_trends(transport, redis_url, handled)
        consumer.priority_reader_active = reader
        await consumer.ensure_groups()
        raw_write(redis_url, MARKETDATA, quote(1), MessagePriority.NORMAL)

        assert await consumer.poll(None) == 2
    assert handled == [TREND, quote(1)]


async def test_a_full_batch_of_priority_entries_leaves_the_bulk_lanes_to_the_next_cycle(
    redis_url: str,
) -> None:
    handled: list[Any] = []
    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(
            transport, config(redis_url, read_count=2), lambda d: handled.append(d.message)
        )
        await consumer.ensure_groups()
        raw_write(redis_url, MARKETDATA, quote(1), MessagePriority.NORMAL)
        for seq in (8, 9):
            raw_write(redis_url, priority_lane(MARKETDATA), quote(seq), MessagePriority.CRITICAL)

        assert await consumer.poll(None) == 2
        assert handled == [quote(8), quote(9)]
        assert await consumer.poll(None) == 1
    assert handled == [quote(8), quote(9), quote(1)]


def test_a_second_handler_for_a_type_is_refused(redis_url: str) -> None:
    consumer = quote_consumer(RedisTransport(redis_url), config(redis_url), print)

    with pytest.raises(
        ValueError, match=r"^nautilus\.marketdata\.v1\.Quote already has a handler$"
    ):
        consumer.subscribe(message_spec(Quote), print)


async def test_a_handler_failing_on_its_last_allowed_delivery_dead_letters_the_entry_at_once(
    redis_url: str,
) -> None:
    def fail(delivery: Delivery[Quote]) -> None:
        raise RuntimeError("boom")

    async with transport_to(redis_url) as transport:
        consumer = quote_consumer(
            transport, config(redis_url, engine="vpin", max_deliveries=1), fail
        )
        await consumer.ensure_groups()
        await publish_quotes(redis_url, 1)
        await consumer.poll(None)

    with redis.Redis.from_url(redis_url) as connection:
        ((_, letter),) = connection.xrange("{" + MARKETDATA + "}:dead-letter")
        assert connection.xpending(MARKETDATA, "vpin")["pending"] == 0
    assert letter[b"dl.reason"] == b"max-deliveries"
    assert letter[b"dl.detail"] == b"handler failed on delivery 1: RuntimeError('boom')"
