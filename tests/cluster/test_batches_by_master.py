"""A publisher's batch on a real 3-master cluster (tests/conftest.py) holds writes for every
master once a route is cut into partitions, interleaved by key as a market feed interleaves
instruments. The batch is split by master and each master's writes go out together, all masters
at once: every message lands once, in order per key; a master held up does not hold up the
others; and when one master's part comes back short (its connection broken mid-batch, or a new
connection's first write refused for now), what the other masters wrote past it is read back,
not written twice."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import cast

import pytest
import redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from nautilus.runtime.partitions import partition_of, partition_stream
from nautilus.runtime.routing import MessageSpec, message_spec
from nautilus.runtime.transport.base import parse_entry_id
from nautilus.runtime.transport.outcomes import Rejection, WriteInterruptedError
from nautilus.runtime.transport.redis import RedisTransport
from nautilus.runtime.wire import FIELD_PAYLOAD, encode_entry

MARKETDATA = "nautilus-marketdata-streams"
PARTITIONS = 6
STREAMS = [partition_stream(MARKETDATA, index) for index in range(PARTITIONS)]
#: Two instruments per partition, one after another as a feed interleaves them.
INSTRUMENTS = [
    instrument
    for pair in zip(
        *(
            [
                f"SYM{n:03d}USDT.TEST"
                for n in range(200)
                if partition_of(f"SYM{n:03d}USDT.TEST", 6) == p
            ][:2]
            for p in range(PARTITIONS)
        ),
        strict=True,
    )
    for instrument in pair
]


def _spec() -> MessageSpec:
    """The shipped Quote route cut into `PARTITIONS` (the shipped contract stays as it is)."""
    spec = message_spec(Quote)
    return dataclasses.replace(spec, route=dataclasses.replace(spec.route, partitions=PARTITIONS))


def _quote(number: int) -> Quote:
    """Quote `number` (its `ts_event`), of the instrument whose turn it is."""
    return Quote(
        instrument_id=INSTRUMENTS[number % len(INSTRUMENTS)],
        bid_price_e9=100_000_000_000 + number,
        ask_price_e9=100_010_000_000 + number,
        ts_event=number,
        ts_init=number,
    )


def _master_of(cluster: redis.RedisCluster, key: str) -> int:
    return int(cluster.get_node_from_key(key).port)


def _by_master(cluster: redis.RedisCluster) -> dict[int, list[str]]:
    masters: dict[int, list[str]] = defaultdict(list)
    for stream in STREAMS:
        masters[_master_of(cluster, stream)].append(stream)
    return masters


def _held(cluster: redis.RedisCluster) -> dict[str, list[int]]:
    """The quote numbers each instrument's partition holds, in stream order, per instrument."""
    numbers: dict[str, list[int]] = defaultdict(list)
    for stream in STREAMS:
        for _, fields in cluster.xrange(stream):
            quote = Quote.FromString(fields[FIELD_PAYLOAD])
            assert stream == partition_stream(MARKETDATA, partition_of(quote.instrument_id, 6))
            numbers[quote.instrument_id].append(quote.ts_event)
    return numbers


def _published(total: int) -> dict[str, list[int]]:
    numbers: dict[str, list[int]] = defaultdict(list)
    for number in range(total):
        numbers[_quote(number).instrument_id].append(number)
    return numbers


async def _until(done: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"{what}: not reached in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def cluster(cluster_url: str) -> Iterator[redis.RedisCluster]:
    with redis.RedisCluster.from_url(cluster_url) as client:
        assert len(_by_master(client)) == 3, "the partitions are expected on every master"
        yield client


def _xadd_client(master: redis.Redis) -> dict[str, object] | None:
    """The client of `master` whose last command is an XADD (the transport's connection)."""
    for client in master.client_list():
        if client["cmd"] == "xadd":
            return client
    return None


class _Paused:
    """Writes held on one master (CLIENT PAUSE ... WRITE), until `release`."""

    def __init__(self, port: int) -> None:
        self.master = redis.Redis(host="127.0.0.1", port=port)
        self.master.execute_command("CLIENT", "PAUSE", 60_000, "WRITE")

    def release(self) -> None:
        self.master.execute_command("CLIENT", "UNPAUSE")
        self.master.close()


async def test_an_interleaved_batch_of_a_partitioned_route_lands_once_in_order_per_key(
    cluster_url: str, cluster: redis.RedisCluster
) -> None:
    total = 6_000
    client = UniversalMessageBusClient(
        MessageBusConfig(
            engine="marketdata",
            redis_url=cluster_url,
            trim_interval_ms=0,
            schema_registry=False,
            declare_consumer_groups=False,
            max_buffer_size=1_000,
        ),
        publishes=(Quote,),
    )
    spec = _spec()
    await client.start(consume=False)
    try:
        for number in range(total):
            quote = _quote(number)
            await client.publisher.enqueue(
                spec, quote, spec.route.priority, quote.instrument_id, None
            )
        await client.flush(timeout_s=60)
        stats = client.publisher.stats
    finally:
        await client.close()
    assert _held(cluster) == _published(total)
    assert (stats.written, stats.rejected, stats.out_of_order) == (total, 0, 0)


def _batch(transport: RedisTransport, numbers: range) -> list[bytes]:
    """Quotes `numbers` as a publisher writes them (producer instance, sequence), packed."""
    spec = _spec()
    prepared: list[bytes] = []
    for number in numbers:
        quote = _quote(number)
        stream = partition_stream(MARKETDATA, partition_of(quote.instrument_id, PARTITIONS))
        fields = encode_entry(
            spec.type_bytes,
            spec.fingerprint_bytes,
            quote.SerializeToString(),
            producer=b"marketdata",
            published_at_ns=time.time_ns(),
            priority=spec.route.priority,
            key=quote.instrument_id,
            instance=b"0123456789abcdef",
            sequence=number + 1,
        )
        prepared.append(cast(bytes, transport.prepare_add(stream, fields)))
    return prepared


def _masters_of(
    batch: list[bytes], transport: RedisTransport, cluster: redis.RedisCluster
) -> list[int]:
    """The master of each write of `batch`, in batch order."""
    return [_master_of(cluster, transport.describe_add(write)[0]) for write in batch]


def _last_to_start(masters: list[int]) -> int:
    """The master whose first write comes last in the batch: writes of the others precede it."""
    return max(set(masters), key=masters.index)


async def _hold_up(
    paused: _Paused,
    *,
    cluster: redis.RedisCluster,
    batch: list[bytes],
    masters: list[int],
    held_before: int,
    whole_part: bool = True,
) -> None:
    """Wait until every master but the paused one holds its writes of `batch` (`held_before`
    entries on each partition before it), and the paused one has its part in hand: the first
    write held, the rest (`whole_part`: all of it, to the byte) unread behind it in its query
    buffer, sent without waiting for a reply."""
    held_up = int(paused.master.connection_pool.connection_kwargs["port"])
    expected = Counter(masters)
    for port, streams in _by_master(cluster).items():
        if port == held_up:
            assert sum(map(cluster.xlen, streams)) == held_before * len(streams)
            continue
        await _until(
            lambda streams=streams, port=port: (
                sum(map(cluster.xlen, streams)) == held_before * len(streams) + expected[port]
            ),
            f"master {port} holds its writes",
        )
    ours = [write for write, port in zip(batch, masters, strict=True) if port == held_up]
    behind = sum(len(write) for write in ours[1:]) if whole_part else 1
    await _until(
        lambda: int(str((_xadd_client(paused.master) or {}).get("qbuf", 0))) >= behind,
        "the held-up master has its whole part",
    )


async def test_each_master_gets_its_part_of_a_batch_at_once_and_none_waits_for_another(
    cluster_url: str, cluster: redis.RedisCluster
) -> None:
    transport = RedisTransport(cluster_url)
    try:
        await transport.connect()
        # One write to every partition first: each master's connection has written before.
        warm = await transport.send_adds(_batch(transport, range(12)))
        assert warm.rejected == 0
        assert len(warm.results) == 12
        batch = _batch(transport, range(12, 12 + 120))
        masters = _masters_of(batch, transport, cluster)
        paused = _Paused(_last_to_start(masters))
        try:
            sending = asyncio.create_task(transport.send_adds(batch))
            await _hold_up(paused, cluster=cluster, batch=batch, masters=masters, held_before=2)
        finally:
            paused.release()
        outcome = await sending
    finally:
        await transport.close()
    assert outcome.rejected == 0
    assert len(outcome.results) == len(batch)
    assert _held(cluster) == _published(12 + 120)


async def test_a_connection_broken_mid_batch_reports_the_rest_unknown_from_every_masters_clock(
    cluster_url: str, cluster: redis.RedisCluster
) -> None:
    transport = RedisTransport(cluster_url)
    try:
        await transport.connect()
        warm_batch = _batch(transport, range(12))
        warm = await transport.send_adds(warm_batch)
        batch = _batch(transport, range(12, 12 + 120))
        masters = _masters_of(batch, transport, cluster)
        held_up = _last_to_start(masters)
        cut = masters.index(held_up)
        paused = _Paused(held_up)
        try:
            sending = asyncio.create_task(transport.send_adds(batch))
            await _hold_up(paused, cluster=cluster, batch=batch, masters=masters, held_before=2)
            victim = _xadd_client(paused.master)
            assert victim is not None
            paused.master.client_kill_filter(_id=str(victim["id"]))
        finally:
            paused.release()
        with pytest.raises(WriteInterruptedError) as caught:
            await sending
        interrupted = caught.value
        # Outcomes up to the held-up master's first write; past it, the other masters' writes
        # are in the server, so the rest is unknown, bounded below by every master's ids.
        assert len(interrupted.results) == cut > 0
        assert all(isinstance(result, str) for result in interrupted.results)
        assert interrupted.maybe_sent
        # Entry ids are per stream: an entry is known by its stream and id.
        known = {
            (transport.describe_add(write)[0], entry_id)
            for writes, outcome in ((warm_batch, warm.results), (batch, interrupted.results))
            for write, entry_id in zip(writes, outcome, strict=False)
        }
        written_past = [
            entry_id
            for stream in STREAMS
            for entry_id, _ in cluster.xrange(stream)
            if (stream, entry_id.decode()) not in known
        ]
        assert len(written_past) == sum(port != held_up for port in masters[cut:])
        assert interrupted.since_ms > 0
        assert all(
            parse_entry_id(entry_id.decode())[0] >= interrupted.since_ms
            for entry_id in written_past
        )
        found = await transport.find_written(batch[cut:], interrupted.since_ms)
        assert found == [port != held_up for port in masters[cut:]]
        assert transport.connection_losses == 1
    finally:
        await transport.close()


def _publisher(cluster_url: str) -> UniversalMessageBusClient:
    return UniversalMessageBusClient(
        MessageBusConfig(
            engine="marketdata",
            redis_url=cluster_url,
            trim_interval_ms=0,
            schema_registry=False,
            declare_consumer_groups=False,
            max_buffer_size=1_000,
            reconnect_initial_ms=5,
            reconnect_max_ms=50,
        ),
        publishes=(Quote,),
    )


async def _publish(client: UniversalMessageBusClient, numbers: range) -> None:
    """Quotes `numbers` on the partitioned route; without a wait in between when the buffer has
    room, so they make one batch."""
    spec = _spec()
    for number in numbers:
        quote = _quote(number)
        await client.publisher.enqueue(spec, quote, spec.route.priority, quote.instrument_id, None)


async def test_a_publisher_whose_master_connection_breaks_mid_batch_writes_each_message_once(
    cluster_url: str, cluster: redis.RedisCluster
) -> None:
    client = _publisher(cluster_url)
    total = 600
    await client.start(consume=False)
    try:
        await _publish(client, range(12))
        await client.flush(timeout_s=20)
        transport = RedisTransport(cluster_url)
        batch = _batch(transport, range(12, total))
        masters = _masters_of(batch, transport, cluster)
        paused = _Paused(_last_to_start(masters))
        try:
            await _publish(client, range(12, total))
            # The publisher's writes are packed as its own, so only their masters are known here.
            await _hold_up(
                paused,
                cluster=cluster,
                batch=batch,
                masters=masters,
                held_before=2,
                whole_part=False,
            )
            victim = _xadd_client(paused.master)
            assert victim is not None
            paused.master.client_kill_filter(_id=str(victim["id"]))
        finally:
            paused.release()
        await client.flush(timeout_s=60)
        stats = client.publisher.stats
    finally:
        await client.close()
    assert _held(cluster) == _published(total)
    past = masters[masters.index(_last_to_start(masters)) :]
    assert stats.found_after_loss == sum(port != _last_to_start(masters) for port in past)
    assert (stats.written, stats.rejected) == (total, 0)


class _Busy:
    """A master busy in a long script (another client's): past `busy-reply-threshold` it refuses
    every other command with BUSY, a refusal for a passing reason, until `release` kills the
    script."""

    _SCRIPT = (
        "local start = tonumber(redis.call('TIME')[1]) "
        "while tonumber(redis.call('TIME')[1]) < start + 120 do end return 1"
    )

    def __init__(self, port: int) -> None:
        self.port = port
        self.admin = redis.Redis(host="127.0.0.1", port=port)
        self.threshold = self.admin.config_get("busy-reply-threshold")["busy-reply-threshold"]
        self.admin.config_set("busy-reply-threshold", 10)
        self.runner = threading.Thread(target=self._run)
        self.runner.start()

    def _run(self) -> None:
        # Killed in the end: its client gets an error reply.
        with (
            redis.Redis(host="127.0.0.1", port=self.port) as client,
            contextlib.suppress(redis.ResponseError),
        ):
            client.eval(self._SCRIPT, 0)

    async def busy(self) -> None:
        def refuses() -> bool:
            try:
                self.admin.ping()
            except redis.ResponseError as exc:
                return str(exc).startswith("BUSY")
            return False

        await _until(refuses, "the master refuses with BUSY")

    def release(self) -> None:
        deadline = time.monotonic() + 20
        while self.runner.is_alive():
            assert time.monotonic() < deadline, "the script could not be killed"
            with contextlib.suppress(redis.ResponseError):  # not running (yet, or any more)
                self.admin.script_kill()
            self.runner.join(0.05)
        self.admin.config_set("busy-reply-threshold", self.threshold)
        self.admin.close()


async def test_a_master_refusing_a_new_connections_first_write_for_now_leaves_the_rest_to_read_back(
    cluster_url: str, cluster: redis.RedisCluster
) -> None:
    transport = RedisTransport(cluster_url)
    try:
        await transport.connect()  # no write yet: each master's first write goes alone
        batch = _batch(transport, range(120))
        masters = _masters_of(batch, transport, cluster)
        refusing = _last_to_start(masters)
        first, second = [i for i, port in enumerate(masters) if port == refusing][:2]
        busy = _Busy(refusing)
        try:
            await busy.busy()
            with pytest.raises(WriteInterruptedError) as caught:
                await transport.send_adds(batch)
        finally:
            busy.release()
        interrupted = caught.value
        # Outcomes up to the refusing master's second write, which it was not sent; the other
        # masters wrote what comes after, so the rest is to be read back.
        assert len(interrupted.results) == second
        refused = interrupted.results[first]
        assert isinstance(refused, Rejection)
        assert refused.kind == "BUSY"
        assert all(isinstance(r, str) for i, r in enumerate(interrupted.results) if i != first)
        assert interrupted.maybe_sent
        found = await transport.find_written(batch[second:], interrupted.since_ms)
        assert found == [port != refusing for port in masters[second:]]
        assert transport.connection_losses == 0
    finally:
        await transport.close()


async def test_a_publisher_whose_master_refuses_for_now_writes_each_message_once_in_key_order(
    cluster_url: str, cluster: redis.RedisCluster
) -> None:
    client = _publisher(cluster_url)
    total = 600
    transport = RedisTransport(cluster_url)
    masters = _masters_of(_batch(transport, range(total)), transport, cluster)
    refusing = _last_to_start(masters)
    await client.start(consume=False)
    try:
        busy = _Busy(refusing)
        try:
            await busy.busy()
            await _publish(client, range(total))
            expected = Counter(masters)
            for port, streams in _by_master(cluster).items():
                if port != refusing:
                    await _until(
                        lambda streams=streams, port=port: (
                            sum(map(cluster.xlen, streams)) == expected[port]
                        ),
                        f"master {port} holds its writes",
                    )
        finally:
            busy.release()
        await client.flush(timeout_s=60)
        stats = client.publisher.stats
    finally:
        await client.close()
    assert _held(cluster) == _published(total)
    second = [i for i, port in enumerate(masters) if port == refusing][1]
    assert stats.found_after_loss == sum(port != refusing for port in masters[second:])
    assert (stats.written, stats.rejected, stats.out_of_order) == (total, 0, 0)
    assert stats.retried_rejections >= 1
