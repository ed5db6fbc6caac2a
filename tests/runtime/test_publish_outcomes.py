"""What a publisher tells its caller about each message (landed, refused for good, or buffered),
and its own accounts on a real server, read back with plain XRANGE: backpressure and its counters,
refusals for good (counted by kind, logged once per kind, reported to a hook that may itself
fail), and what it does after a connection broke: writes whose replies were lost are looked up
before anything is sent again, and confirmed writes gone since are counted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import (
    BackpressureError,
    ClientStateError,
    EmbeddedServer,
    MessagePriority,
    PublishRejectedError,
    UniversalMessageBusClient,
    priority_lane,
)
from nautilus.runtime.client import default_transport
from nautilus.runtime.partitions import PartitionKeyError, partition_of, partition_stream
from nautilus.runtime.publisher import Publisher
from nautilus.runtime.routing import MessageSpec, message_spec
from nautilus.runtime.wire import (
    FIELD_KEY,
    FIELD_PAYLOAD,
    FIELD_PRODUCER_INSTANCE,
    FIELD_SEQUENCE,
    FIELD_TRACE_CONTEXT,
)

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
    redis_bus: Bus, redis_url: str, caplog: pytest.LogCaptureFixture
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
    assert f"priority lane: the server refused a message for good: {raised.value}" in [
        r.getMessage() for r in caplog.records
    ]
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


#: Bulk messages wait for a flush: nothing is written by time during a test.
HELD = {"buffer_interval_ms": 60_000, "schema_registry": False, "declare_consumer_groups": False}


def producer(url: str, **overrides: Any) -> UniversalMessageBusClient:
    return Bus("redis", url).client("marketdata", **{**HELD, **overrides})


def bids(url: str, lane: str = MARKETDATA) -> list[int]:
    """The sequence number of each quote in `lane`, in stream order (other entries left out)."""
    with redis.Redis.from_url(url) as connection:
        entries = connection.xrange(lane)
    base = quote(0).bid_price_e9
    return [
        (Quote.FromString(fields[FIELD_PAYLOAD]).bid_price_e9 - base) // 10_000_000
        for _, fields in entries
        if FIELD_PAYLOAD in fields
    ]


def bids_of(fields: dict[bytes, bytes]) -> int:
    """The sequence number of the quote in an entry's fields."""
    return (
        Quote.FromString(fields[FIELD_PAYLOAD]).bid_price_e9 - quote(0).bid_price_e9
    ) // 10_000_000


async def until(done: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s  # bounds a hang; asserts no timing
    while not done():
        assert time.monotonic() < deadline, f"{what}: not reached"
        await asyncio.sleep(0.01)


async def test_each_publish_refused_for_room_is_counted_and_says_it_did_not_wait(
    redis_url: str,
) -> None:
    marketdata = producer(redis_url, max_unsent_messages=2, backpressure="raise")
    await marketdata.start()
    marketdata.publish_nowait(quote(1))
    marketdata.publish_nowait(quote(2))
    refusals = []
    for seq in (3, 4):
        with pytest.raises(BackpressureError) as refused:
            marketdata.publish_nowait(quote(seq))
        refusals.append(refused.value)
    events = marketdata.stats()["backpressure_events"]
    await marketdata.close()

    assert [(r.stream, r.buffered, r.limit, r.waited_s) for r in refusals] == [
        (MARKETDATA, 2, 2, 0.0)
    ] * 2
    assert events == 2


async def test_a_publish_that_waited_for_room_is_written_with_its_key_and_trace_context(
    redis_url: str,
) -> None:
    marketdata = producer(redis_url, max_unsent_messages=1, backpressure_timeout_s=30)
    await marketdata.start()
    marketdata.publish_nowait(quote(1))
    waiting = asyncio.ensure_future(
        marketdata.publish(quote(2), key="AAPL.XNAS", trace_context="00-trace-01")
    )
    await asyncio.sleep(0)
    assert not waiting.done()

    await marketdata.flush()  # writes quote 1: room for quote 2
    await waiting
    await marketdata.flush()
    await marketdata.close()

    with redis.Redis.from_url(redis_url) as connection:
        last = connection.xrange(MARKETDATA)[-1][1]
    assert bids(redis_url) == [1, 2]
    assert (last[FIELD_KEY], last[FIELD_TRACE_CONTEXT]) == (b"AAPL.XNAS", b"00-trace-01")


async def test_a_publish_that_found_no_room_in_time_reports_its_stream_and_its_wait(
    redis_url: str,
) -> None:
    marketdata = producer(redis_url, max_unsent_messages=1, backpressure_timeout_s=0.05)
    await marketdata.start()
    marketdata.publish_nowait(quote(1))

    started = time.monotonic()
    with pytest.raises(BackpressureError) as refused:
        await marketdata.publish(quote(2))
    took = time.monotonic() - started
    await marketdata.close()

    assert refused.value.stream == MARKETDATA
    assert 0.05 <= refused.value.waited_s <= took


def _wrong_type_lane(url: str) -> None:
    with redis.Redis.from_url(url) as connection:
        connection.set(MARKETDATA, "not a stream")


async def test_messages_refused_for_good_are_counted_by_the_kind_of_refusal(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No failure hook is set: the refusals are counted and reported, and nothing else fails."""
    _wrong_type_lane(redis_url)
    marketdata = producer(redis_url)
    await marketdata.start()
    for seq in range(3):
        marketdata.publish_nowait(quote(seq))
    with (
        caplog.at_level(logging.ERROR, logger="nautilus.runtime.publisher"),
        pytest.raises(PublishRejectedError) as reported,
    ):
        await marketdata.flush()
    stats = marketdata.publisher.stats
    await marketdata.close()

    assert (reported.value.lane, reported.value.kind, reported.value.count) == (
        MARKETDATA,
        "WRONGTYPE",
        3,
    )
    assert (stats.rejected, stats.rejected_kinds) == (3, {"WRONGTYPE": 3})
    assert [r.exc_info for r in caplog.records] == [None]  # the first refusal, no hook error


async def test_the_first_refusal_of_a_kind_is_logged_as_an_error_and_the_next_ones_not(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _wrong_type_lane(redis_url)
    refused: list[PublishRejectedError] = []
    marketdata = producer(redis_url)
    marketdata.on_publish_failure(refused.append)
    await marketdata.start()
    for seq in range(3):
        marketdata.publish_nowait(quote(seq))
    with (
        caplog.at_level(logging.ERROR, logger="nautilus.runtime.publisher"),
        pytest.raises(PublishRejectedError),
    ):
        await marketdata.flush()
    await marketdata.close()

    logged = [r.getMessage() for r in caplog.records if r.name == "nautilus.runtime.publisher"]
    assert len(refused) == 3
    assert logged == [f"bulk lane: the server refused a message for good: {refused[0]}"]


async def test_a_failure_hook_that_raises_is_logged_and_every_refusal_still_reaches_it(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _wrong_type_lane(redis_url)
    calls: list[PublishRejectedError] = []

    def hook(error: PublishRejectedError) -> None:
        calls.append(error)
        raise RuntimeError("the hook's own bug")

    marketdata = producer(redis_url)
    marketdata.on_publish_failure(hook)
    await marketdata.start()
    for seq in range(2):
        marketdata.publish_nowait(quote(seq))
    with (
        caplog.at_level(logging.ERROR, logger="nautilus.runtime.publisher"),
        pytest.raises(PublishRejectedError) as reported,
    ):
        await marketdata.flush()
    await marketdata.close()

    hook_failures = [r for r in caplog.records if r.getMessage() == "publish failure hook raised"]
    assert (len(calls), reported.value.count) == (2, 2)
    assert len(hook_failures) == 2
    assert all(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in hook_failures)


async def _cut_while_a_batch_waits(
    marketdata: UniversalMessageBusClient, admin: redis.Redis
) -> None:
    """Flush with every write held by the server, then cut the connections: the batch's replies
    are lost and the server never executed it."""
    admin.execute_command("CLIENT", "PAUSE", 120_000, "WRITE")
    try:
        flushing = asyncio.ensure_future(marketdata.flush(timeout_s=60))
        await until(lambda: int(admin.info("clients")["blocked_clients"]) >= 1, "a held write")
        failed = marketdata.stats()["failed_writes"]
        admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        await until(lambda: marketdata.stats()["failed_writes"] > failed, "a broken write")
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
    await flushing


async def test_writes_whose_replies_were_lost_are_looked_up_and_sent_again_once_in_order(
    private_server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    marketdata = producer(private_server.url, reconnect_max_ms=20)
    await marketdata.start()
    with (
        redis.Redis.from_url(private_server.url) as admin,
        caplog.at_level(logging.INFO, logger="nautilus.runtime.publisher"),
    ):
        await marketdata.publish_many(quote(seq) for seq in range(1, 6))
        await _cut_while_a_batch_waits(marketdata, admin)
    stats = marketdata.stats()
    await marketdata.close()

    logged = [r.getMessage() for r in caplog.records if r.name == "nautilus.runtime.publisher"]
    assert bids(private_server.url) == [1, 2, 3, 4, 5]
    assert (stats["published"], stats["publish_found_after_loss"]) == (5, 0)
    assert stats["failed_writes"] == 1
    assert len(logged) == 3
    assert re.fullmatch(
        r"bulk lane: write of 5 failed \(XADD batch: .+\); 5 unsent, retrying in 0\.020s", logged[0]
    )
    assert logged[1:] == [
        "bulk lane: 0 of 5 writes with lost replies were in the server; sending 5 again",
        "bulk lane: write succeeded after 1 failures",
    ]


#: An hour ahead of the server's clock: every id written after an entry of this millisecond is
#: `<it>-<n>` with n counting up from 1 (a writer whose clock runs ahead, e.g. another host's).
AHEAD_MS = 3_600_000


def _entry_from_a_clock_ahead(admin: redis.Redis) -> None:
    now_s, now_us = admin.time()
    admin.xadd(MARKETDATA, {"foreign": "entry"}, id=f"{now_s * 1000 + now_us // 1000 + AHEAD_MS}-0")


async def test_confirmed_writes_gone_after_a_lost_connection_are_counted_and_logged(
    private_server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The oldest and the two newest of twelve confirmed writes are gone (as after a failover to
    a replica that lacked them); an entry older than all of them, not this publisher's, stays.
    The writes' ids differ only in their sequence, from 1 to 12: the check orders ids as ids."""
    marketdata = producer(private_server.url, reconnect_max_ms=20)
    await marketdata.start()
    with redis.Redis.from_url(private_server.url) as admin:
        _entry_from_a_clock_ahead(admin)
        await marketdata.publish_many(quote(seq) for seq in range(1, 13))
        await marketdata.flush()
        ids = [entry_id for entry_id, _ in admin.xrange(MARKETDATA)][1:]
        assert admin.xdel(MARKETDATA, ids[0], *ids[-2:]) == 3
        await marketdata.publish_many(quote(seq) for seq in range(13, 15))
        with caplog.at_level(logging.ERROR, logger="nautilus.runtime.publisher"):
            await _cut_while_a_batch_waits(marketdata, admin)
    stats = marketdata.stats()
    await marketdata.close()

    assert bids(private_server.url) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14]
    assert stats["publish_lost_confirmed"] == 3
    assert [r.getMessage() for r in caplog.records] == [
        "bulk lane: 3 writes the server had confirmed are gone after a lost connection "
        "(a failover loses what the old master had not yet replicated)"
    ]


async def test_confirmed_writes_are_checked_after_each_lost_connection_only_and_losses_add_up(
    private_server: EmbeddedServer,
) -> None:
    """An entry deleted while no connection was lost (an operator's XDEL) is not reported then;
    each lost connection reports what went since the last check."""
    url = private_server.url
    marketdata = producer(url, reconnect_max_ms=20)
    await marketdata.start()
    with redis.Redis.from_url(url) as admin:

        def delete(seq: int) -> None:
            held = [i for i, f in admin.xrange(MARKETDATA) if bids_of(f) == seq]
            assert admin.xdel(MARKETDATA, *held) == 1

        await marketdata.publish_many(quote(seq) for seq in range(1, 5))
        await marketdata.flush()
        delete(3)
        await marketdata.publish(quote(5))
        await _cut_while_a_batch_waits(marketdata, admin)
        after_first_loss = marketdata.stats()["publish_lost_confirmed"]
        await marketdata.publish_many(quote(seq) for seq in range(6, 9))
        await marketdata.flush()
        delete(7)
        await marketdata.publish(quote(9))
        await marketdata.flush()
        without_a_loss = marketdata.stats()["publish_lost_confirmed"]
        await marketdata.publish(quote(10))
        await _cut_while_a_batch_waits(marketdata, admin)
    stats = marketdata.stats()
    await marketdata.close()

    assert bids(url) == [1, 2, 4, 5, 6, 8, 9, 10]
    assert (after_first_loss, without_a_loss, stats["publish_lost_confirmed"]) == (1, 1, 2)


async def test_a_check_of_confirmed_writes_the_server_refuses_is_logged_and_counts_nothing(
    private_server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A user that may write and read back (XREVRANGE) but not XRANGE: writing recovers after
    the lost connection, and the check of confirmed writes is refused."""
    url = private_server.url
    with redis.Redis.from_url(url) as admin:
        admin.acl_setuser(
            "writer",
            enabled=True,
            passwords=["+writer-pw"],
            keys=["*"],
            commands=["+@all", "-xrange"],
        )
        writer_url = url.replace("redis://", "redis://writer:writer-pw@")
        marketdata = producer(writer_url, reconnect_max_ms=20)
        await marketdata.start()
        await marketdata.publish_many(quote(seq) for seq in range(1, 4))
        await marketdata.flush()
        await marketdata.publish(quote(4))
        with caplog.at_level(logging.WARNING, logger="nautilus.runtime.publisher"):
            await _cut_while_a_batch_waits(marketdata, admin)
        stats = marketdata.stats()
        await marketdata.close()

    refusals = [r.getMessage() for r in caplog.records if "checking" in r.getMessage()]
    assert bids(url) == [1, 2, 3, 4]
    assert stats["publish_lost_confirmed"] == 0
    assert len(refusals) == 1
    assert re.fullmatch(r"bulk lane: checking confirmed writes failed \(XRANGE: .+\)", refusals[0])


def _script_until_killed(url: str) -> None:
    """Run a script that never ends by itself: the server answers BUSY until SCRIPT KILL."""
    with (
        redis.Redis.from_url(url, socket_timeout=120) as connection,
        contextlib.suppress(redis.ResponseError),
    ):
        connection.eval("while true do end", 0)


def _until_busy(url: str) -> None:
    deadline = time.monotonic() + 30  # bounds a hang; asserts no timing
    with redis.Redis.from_url(url, socket_timeout=30) as connection:
        while True:
            assert time.monotonic() < deadline, "the script never made the server busy"
            try:
                connection.ping()
            except redis.ResponseError as exc:
                if str(exc).startswith("BUSY"):
                    return


async def _busy(url: str) -> asyncio.Future[None]:
    """The server busy with a script (BUSY replies after 10 ms of it) until SCRIPT KILL."""
    with redis.Redis.from_url(url) as admin:
        admin.config_set("busy-reply-threshold", 10)
    script = asyncio.ensure_future(asyncio.to_thread(_script_until_killed, url))
    await asyncio.to_thread(_until_busy, url)
    return script


async def _kill_script(url: str, script: asyncio.Future[None]) -> None:
    with redis.Redis.from_url(url) as admin:
        admin.script_kill()
    await script


async def test_writes_refused_for_now_are_sent_again_first_in_order_once_the_server_answers(
    private_server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """One write per batch: a refusal never begins or ends inside a batch (that case, where
    later writes of the batch overtake, is counted in `out_of_order` and tested with faults)."""
    url = private_server.url
    marketdata = producer(url, max_buffer_size=1, reconnect_max_ms=20)
    await marketdata.start()
    await marketdata.publish(quote(0), wait_landed=True)
    script = await _busy(url)
    for seq in range(1, 6):
        marketdata.publish_nowait(quote(seq))
    with caplog.at_level(logging.WARNING, logger="nautilus.runtime.publisher"):
        flushing = asyncio.ensure_future(marketdata.flush(timeout_s=60))
        await until(lambda: marketdata.stats()["publish_retried_rejections"] >= 2, "refusals")
        await _kill_script(url, script)
        await flushing
    stats = marketdata.publisher.stats
    await marketdata.close()

    warnings = [r.getMessage() for r in caplog.records if "refused for now" in r.getMessage()]
    assert bids(url) == [0, 1, 2, 3, 4, 5]
    assert (stats.written, stats.rejected, stats.out_of_order) == (6, 0, 0)
    assert len(warnings) == 1
    assert warnings[0].startswith("bulk lane: 1 writes refused for now (BUSY ")
    assert warnings[0].endswith("); sending them again first")


async def test_a_refusal_for_now_that_outlasts_its_timeout_fails_the_message(
    private_server: EmbeddedServer,
) -> None:
    url = private_server.url
    marketdata = producer(url, rejected_write_timeout_s=0, reconnect_max_ms=20)
    await marketdata.start()
    await marketdata.publish(quote(0), wait_landed=True)
    script = await _busy(url)
    try:
        with pytest.raises(PublishRejectedError) as refused:
            await marketdata.publish(quote(1), wait_landed=True)
    finally:
        await _kill_script(url, script)
    await marketdata.publish(quote(2), wait_landed=True)
    stats = marketdata.publisher.stats
    await marketdata.close()

    assert refused.value.kind == "BUSY"
    assert (stats.retried_rejections, stats.rejected) == (2, 1)
    assert bids(url) == [0, 2]


class Relay:
    """A TCP relay in front of a server that can break a connection at a chosen point. Armed
    with `cut_after = n`, it passes on the next writes up to the middle of the (n+1)-th XADD,
    closes its side towards the server (which executes the first n and drops the partial one),
    waits for the server to close, and drops the client's connection without passing on a single
    reply: the client cannot tell which of its writes the server holds."""

    def __init__(self, port: int) -> None:
        self._port = port
        self.cut_after: int | None = None
        self._seen = 0
        self._relays: list[asyncio.Task[Any]] = []
        self.url = ""

    async def __aenter__(self) -> Relay:
        self._listener = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.url = f"redis://127.0.0.1:{self._listener.sockets[0].getsockname()[1]}/0"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._listener.close()
        for relay in self._relays:
            relay.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _relay(self, client_in: asyncio.StreamReader, client_out: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.append(task)
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self._port)
        replies = asyncio.ensure_future(self._pass(server_in, client_out))
        try:
            await self._requests(client_in, server_out, server_in, replies)
        finally:
            replies.cancel()
            client_out.transport.abort()
            server_out.transport.abort()

    @staticmethod
    async def _pass(source: asyncio.StreamReader, sink: Any) -> None:
        while data := await source.read(65536):
            sink.write(data)

    async def _requests(
        self,
        client_in: asyncio.StreamReader,
        server_out: Any,
        server_in: asyncio.StreamReader,
        replies: asyncio.Future[None],
    ) -> None:
        while data := await client_in.read(65536):
            if self.cut_after is None:
                server_out.write(data)
                continue
            cut = -1
            for _ in range(data.count(b"XADD\r\n")):
                cut = data.index(b"XADD\r\n", cut + 1)
                self._seen += 1
                if self._seen > self.cut_after:
                    break
            if self._seen <= self.cut_after:
                server_out.write(data)
                continue
            self.cut_after, self._seen = None, 0
            replies.cancel()  # nothing the server answers from here on reaches the client
            server_out.write(data[: cut + 6])
            server_out.write_eof()
            while await server_in.read(65536):
                pass
            return


async def test_writes_the_server_executed_before_a_connection_broke_are_found_not_sent_again(
    private_server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Twice: five writes of which the server executed two, then three of which it executed one.
    A publish waiting for a write found this way returns."""
    async with Relay(private_server.port) as relay:
        marketdata = producer(relay.url, reconnect_max_ms=20)
        await marketdata.start()
        await marketdata.publish(quote(0), wait_landed=True)
        relay.cut_after = 2
        landed = asyncio.ensure_future(marketdata.publish(quote(1), wait_landed=True))
        await asyncio.sleep(0)  # quote 1 buffered and its write asked for; the rest join it
        for seq in range(2, 6):
            marketdata.publish_nowait(quote(seq))
        with caplog.at_level(logging.INFO, logger="nautilus.runtime.publisher"):
            await asyncio.wait_for(landed, 60)  # bounds a hang
            await marketdata.flush(timeout_s=60)
            relay.cut_after = 1
            for seq in range(6, 9):
                marketdata.publish_nowait(quote(seq))
            await marketdata.flush(timeout_s=60)
        stats = marketdata.stats()
        await marketdata.close()

    read_back = [r.getMessage() for r in caplog.records if "lost replies" in r.getMessage()]
    assert bids(private_server.url) == list(range(9))
    assert (stats["published"], stats["publish_found_after_loss"]) == (9, 3)
    assert read_back == [
        "bulk lane: 2 of 5 writes with lost replies were in the server; sending 3 again",
        "bulk lane: 1 of 3 writes with lost replies were in the server; sending 2 again",
    ]


def _partitioned_quotes(partitions: int) -> MessageSpec:
    """Quote's spec as a contract cutting its stream into `partitions` would give it."""
    spec = message_spec(Quote)
    return replace(spec, route=replace(spec.route, partitions=partitions))


async def test_a_message_of_a_partitioned_route_goes_to_the_partition_of_its_key_or_is_refused(
    redis_url: str,
) -> None:
    config = Bus("redis", redis_url).config("marketdata", **HELD)
    transport = default_transport(config)
    publisher = Publisher(transport, config)
    publisher.start()
    spec = _partitioned_quotes(3)
    with pytest.raises(PartitionKeyError) as refused:
        publisher.try_enqueue(spec, quote(0), MessagePriority.NORMAL, None, None)
    for seq, instrument in enumerate(["AAPL.XNAS", "MSFT.XNAS", "BTCUSDT.BINANCE"], start=1):
        assert publisher.try_enqueue(
            spec, quote(seq, instrument), MessagePriority.NORMAL, instrument, None
        )
    await publisher.close()
    await transport.close()

    assert (refused.value.type_name, refused.value.stream, refused.value.partitions) == (
        "nautilus.marketdata.v1.Quote",
        MARKETDATA,
        3,
    )
    with redis.Redis.from_url(redis_url) as connection:
        for instrument in ["AAPL.XNAS", "MSFT.XNAS", "BTCUSDT.BINANCE"]:
            lane = partition_stream(MARKETDATA, partition_of(instrument, 3))
            keys = [fields[FIELD_KEY] for _, fields in connection.xrange(lane)]
            assert instrument.encode() in keys
        assert not connection.exists(MARKETDATA)


async def test_buffered_messages_are_written_in_batches_of_at_most_max_buffer_size(
    redis_url: str,
) -> None:
    marketdata = producer(redis_url, max_buffer_size=40)
    await marketdata.start()
    for seq in range(100):
        marketdata.publish_nowait(quote(seq))
    await marketdata.flush()
    stats = marketdata.publisher.stats
    await marketdata.close()

    assert bids(redis_url) == list(range(100))
    assert (stats.batches, stats.written) == (3, 100)


async def test_a_closed_publisher_refuses_to_take_a_message(redis_url: str) -> None:
    """Closed before it was ever started, as a client that fails to start closes it."""
    config = Bus("redis", redis_url).config("marketdata", **HELD)
    transport = default_transport(config)
    publisher = Publisher(transport, config)
    await publisher.close()
    await transport.close()

    with pytest.raises(ClientStateError) as refused:
        publisher.try_enqueue(message_spec(Quote), quote(1), MessagePriority.NORMAL, None, None)
    assert str(refused.value) == "publisher is closed"


async def test_unsent_messages_of_both_lanes_count_against_the_limit(redis_url: str) -> None:
    marketdata = producer(redis_url, max_unsent_messages=2, backpressure="raise")
    await marketdata.start()
    marketdata.publish_nowait(quote(1), priority=MessagePriority.CRITICAL)  # not written yet
    marketdata.publish_nowait(quote(2))
    with pytest.raises(BackpressureError) as refused:
        marketdata.publish_nowait(quote(3))
    await marketdata.close()

    assert refused.value.buffered == 2


async def test_a_write_failing_again_and_again_is_logged_at_the_first_failure_and_every_fiftieth(
    private_server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The log and the count are read in one step: every failure counted has been logged."""
    marketdata = producer(private_server.url, reconnect_initial_ms=20, reconnect_max_ms=20)
    await marketdata.start()
    private_server.kill()
    marketdata.publish_nowait(quote(1))
    flushing = asyncio.ensure_future(marketdata.flush(timeout_s=60))
    with caplog.at_level(logging.WARNING, logger="nautilus.runtime.publisher"):
        await until(lambda: marketdata.stats()["failed_writes"] >= 50, "fifty failed writes", 60)
        failures = marketdata.stats()["failed_writes"]
        logged = sum("write of 1 failed" in r.getMessage() for r in caplog.records)
    private_server.start()
    await flushing
    await marketdata.close()

    assert logged == 1 + failures // 50


async def test_a_publish_waiting_for_a_write_in_a_batch_refused_in_part_returns(
    private_server: EmbeddedServer,
) -> None:
    """The server's memory fills up in the middle of one batch: the first write is done (and
    awaited), later ones are refused for good (OOM), or done where memory was freed meanwhile."""
    with redis.Redis.from_url(private_server.url) as admin:
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", int(admin.info("memory")["used_memory"]) + 300_000)
    marketdata = producer(private_server.url)
    await marketdata.start()
    landed = asyncio.ensure_future(marketdata.publish(quote(0), wait_landed=True))
    await asyncio.sleep(0)  # quote 0 buffered and its write asked for; the rest join it
    for seq in range(1, 5000):
        marketdata.publish_nowait(quote(seq))
    with pytest.raises(PublishRejectedError) as refused:
        await marketdata.flush(timeout_s=60)
    await asyncio.wait_for(landed, 60)  # bounds a hang
    stats = marketdata.publisher.stats
    await marketdata.close()

    held = bids(private_server.url)
    assert held[0] == 0
    assert held == sorted(held)
    assert stats.written == len(held) < 5000
    assert (refused.value.kind, refused.value.count) == ("OOM", 5000 - len(held))


async def test_a_publish_still_waiting_when_its_publisher_closes_is_told_it_was_not_written(
    private_server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    marketdata = producer(private_server.url, reconnect_max_ms=20)
    await marketdata.start()
    private_server.kill()
    waiting = asyncio.ensure_future(marketdata.publish(quote(1), wait_landed=True))
    await asyncio.sleep(0)
    with pytest.raises(TimeoutError):
        await marketdata.close(timeout_s=0.05)
    private_server.start()

    with pytest.raises(ClientStateError) as refused:
        await asyncio.wait_for(waiting, 60)  # bounds a hang
    assert str(refused.value) == "publisher closed before it was written"
    assert "publisher closed with 1 messages unsent" in [r.getMessage() for r in caplog.records]


async def test_begin_publish_gives_nothing_to_await_for_a_buffered_message(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("marketdata", buffer_interval_ms=60_000)
    with pytest.raises(ClientStateError):
        producer.begin_publish(quote(0))  # raised at once, not when awaited
    await producer.start()

    assert producer.begin_publish(quote(1)) is None
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.xlen(MARKETDATA) == 0  # buffered, not written
    landing = producer.begin_publish(quote(2), wait_landed=True)
    assert landing is not None
    await landing
    critical = producer.begin_publish(quote(3), MessagePriority.CRITICAL)
    assert critical is not None
    await critical
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.xlen(MARKETDATA) == 2
        assert connection.xlen(priority_lane(MARKETDATA)) == 1
    await producer.close()


async def test_begin_publish_without_room_gives_the_wait_for_room_to_await(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client(
        "marketdata", buffer_interval_ms=60_000, max_unsent_messages=1, backpressure="block"
    )
    await producer.start()
    assert producer.begin_publish(quote(1)) is None
    waiting = producer.begin_publish(quote(2), wait_landed=True)
    assert waiting is not None
    assert producer.publisher.unsent == 1  # not taken yet: it waits for room

    await asyncio.gather(waiting, producer.flush())

    with redis.Redis.from_url(redis_url) as connection:
        assert connection.xlen(MARKETDATA) == 2  # landed: the wait included the landing
    await producer.close()
