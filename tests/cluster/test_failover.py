"""A master killed mid-run on a real cluster with one replica per master: the replica takes over,
and the same publisher and consumer objects carry on without a restart. Every message the
publisher was told is written is accounted for: delivered, or lost because replication to the
replica is asynchronous (the writes the dead master confirmed but had not yet passed on), and a
loss is reported, never silent: by the test's own accounting, and by the publisher, which looks
up its last confirmed writes again once it writes after a lost connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import redis

from nautilus.marketdata.v1.marketdata_pb2 import Trade
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient
from nautilus.runtime.server import EmbeddedCluster, EmbeddedServer
from nautilus.runtime.wire import FIELD_PAYLOAD
from nautilus.toraniko.v1.toraniko_pb2 import FactorExposures
from tests.runtime.conftest import trade

pytestmark = pytest.mark.slow

MARKETDATA = "nautilus-marketdata-streams"
#: Trades published in the run; the master is killed once a quarter of them are confirmed.
MESSAGES = 20_000
#: Trades published between two flushes: a flush that returns confirms its chunk.
CHUNK = 200


def _master_port(live: redis.Redis, key: str) -> int:
    """The port of the master serving `key`, as the node `live` sees the cluster now."""
    slot = int(live.execute_command("CLUSTER KEYSLOT", key))
    for first, last, master, *_ in live.execute_command("CLUSTER SLOTS"):
        if int(first) <= slot <= int(last):
            return int(master[1])
    raise AssertionError(f"no master serves slot {slot}")


def _promoted(live: redis.Redis, key: str, dead_port: int) -> bool:
    """Whether the cluster, seen from `live`, serves `key`'s slot from another master again."""
    try:
        info = live.execute_command("CLUSTER INFO")
        return str(info.get("cluster_state")) == "ok" and _master_port(live, key) != dead_port
    except redis.RedisError:
        return False


def _sequence(trade_id: str) -> int:
    return int(trade_id.removeprefix("T"))


async def _until(done: Callable[[], bool], what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"{what}: not reached in time"
        await asyncio.sleep(0.02)


@dataclass
class Run:
    """What the publisher was told and what the consumer got, in the order it happened."""

    confirmed: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    #: Trades published (confirmed or not) when the master was killed.
    published_at_kill: int = 0
    killed_at: float = 0.0
    promoted_at: float = 0.0
    #: When the first trade published after the kill was confirmed, and delivered.
    publisher_back_at: float = 0.0
    consumer_back_at: float = 0.0


async def _publish(producer: UniversalMessageBusClient, run: Run, published: list[int]) -> None:
    for start in range(1, MESSAGES + 1, CHUNK):
        chunk = list(range(start, min(start + CHUNK, MESSAGES + 1)))
        await producer.publish_many(trade(seq) for seq in chunk)
        published.append(chunk[-1])
        # The durability point of buffered publishes: retried through the failover.
        await producer.flush(timeout_s=300)
        run.confirmed += chunk
        if run.killed_at and not run.publisher_back_at and chunk[0] > run.published_at_kill:
            run.publisher_back_at = time.monotonic()


def _config(engine: str, url: str) -> MessageBusConfig:
    return MessageBusConfig(
        engine=engine,
        redis_url=url,
        reclaim_idle_ms=500,
        read_block_ms=200,
        trim_interval_ms=0,
        # A failover takes the cluster-node-timeout and an election: refusals meanwhile
        # (CLUSTERDOWN, TRYAGAIN) are retried well past it.
        rejected_write_timeout_s=300,
        reconnect_max_ms=200,
    )


def _stream_sequences(live: redis.Redis, port: int) -> list[int]:
    """The trades in the stream after the run, read from the master that serves it now."""
    with redis.Redis(host="127.0.0.1", port=port) as master:
        entries = master.xrange(MARKETDATA)
    return [_sequence(Trade.FromString(fields[FIELD_PAYLOAD]).trade_id) for _, fields in entries]


async def test_a_killed_master_fails_over_and_every_lost_write_is_accounted_for() -> None:
    with EmbeddedCluster(masters=3, replicas=1, node_timeout_ms=1000) as cluster:
        with redis.Redis.from_url(cluster.url) as any_node:
            victim = cluster.node_at(_master_port(any_node, MARKETDATA))
        others = [node for node in cluster.all_nodes if node is not victim]
        # The clients are given a node that survives: the URL is where they first find the map.
        producer = UniversalMessageBusClient(_config("marketdata", others[0].url))
        consumer = UniversalMessageBusClient(_config("risk", others[1].url))
        run = Run()

        def received(delivery: Delivery[Trade]) -> None:
            sequence = _sequence(delivery.message.trade_id)
            run.delivered.append(sequence)
            if run.killed_at and not run.consumer_back_at and sequence > run.published_at_kill:
                run.consumer_back_at = time.monotonic()

        consumer.subscribe(Trade, received)
        await consumer.start()
        await producer.start()
        published: list[int] = []
        publishing = asyncio.ensure_future(_publish(producer, run, published))
        try:
            await _until(lambda: len(run.confirmed) >= MESSAGES // 4, "a quarter confirmed")
            run.published_at_kill = published[-1]
            victim.kill()  # SIGKILL: whatever it had not replicated is gone
            run.killed_at = time.monotonic()
            with redis.Redis.from_url(others[0].url) as live:
                await _until(lambda: _promoted(live, MARKETDATA, victim.port), "promotion")
                run.promoted_at = time.monotonic()
                await asyncio.wait_for(publishing, 300)
                new_master = _master_port(live, MARKETDATA)
                in_stream = _stream_sequences(live, new_master)
            await _until(lambda: set(in_stream) <= set(run.delivered), "every entry delivered")
            reported_lost = producer.stats()["publish_lost_confirmed"]
        finally:
            publishing.cancel()
            await producer.close()
            await consumer.close()

    confirmed = set(run.confirmed)
    delivered = set(run.delivered)
    lost = sorted(confirmed - set(in_stream))
    duplicated = len(run.delivered) - len(delivered)
    reordered = sum(1 for a, b in zip(run.delivered, run.delivered[1:], strict=False) if b < a)
    print(
        f"failover: promoted {run.promoted_at - run.killed_at:.2f}s after the kill; "
        f"publisher back {run.publisher_back_at - run.killed_at:.2f}s, "
        f"consumer back {run.consumer_back_at - run.killed_at:.2f}s; "
        f"confirmed {len(confirmed)}, delivered {len(delivered)}, "
        f"lost by asynchronous replication {len(lost)} {lost[:5]}..., "
        f"reported lost by the publisher {reported_lost}, "
        f"duplicated {duplicated}, reordered {reordered}"
    )
    # The run completed on the same objects: every trade confirmed, once per sequence number.
    assert confirmed == set(range(1, MESSAGES + 1))
    assert len(run.confirmed) == MESSAGES
    # The stream holds no trade that was not published, and never one twice.
    assert len(in_stream) == len(set(in_stream))
    assert set(in_stream) <= confirmed
    # Every confirmed trade was delivered or is accounted lost: nothing missing goes unreported.
    assert confirmed - delivered <= set(lost)
    # Only writes the dead master confirmed can be lost: none published after the kill.
    assert all(sequence <= run.published_at_kill for sequence in lost)
    # The publisher found the same loss when it looked up its confirmed writes again.
    assert reported_lost == len(lost)


async def test_confirmed_writes_gone_after_a_lost_connection_are_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with EmbeddedServer() as server, redis.Redis.from_url(server.url) as admin:
        producer = UniversalMessageBusClient(_config("marketdata", server.url))
        await producer.start()
        try:
            await producer.publish_many(trade(seq) for seq in range(1, 101))
            await producer.flush(timeout_s=60)
            # The server no longer holds the ten newest confirmed writes, as a promoted replica
            # that had not received them would not.
            newest = [entry_id for entry_id, _ in admin.xrevrange(MARKETDATA, count=10)]
            assert admin.xdel(MARKETDATA, *newest) == 10
            # The next batch waits in the server (writes paused) until its connection is killed.
            admin.execute_command("CLIENT", "PAUSE", 120_000, "WRITE")
            try:
                await producer.publish_many(trade(seq) for seq in range(101, 111))
                flushing = asyncio.ensure_future(producer.flush(timeout_s=120))
                await _until(
                    lambda: int(admin.info("clients")["blocked_clients"]) >= 1, "a held write"
                )
                admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                await _until(lambda: producer.stats()["failed_writes"] >= 1, "a broken write")
            finally:
                admin.execute_command("CLIENT", "UNPAUSE")
            await flushing
            stats = producer.stats()
        finally:
            await producer.close()
        held = [
            _sequence(Trade.FromString(f[FIELD_PAYLOAD]).trade_id)
            for _, f in admin.xrange(MARKETDATA)
        ]
    assert held == [*range(1, 91), *range(101, 111)]
    assert stats["publish_lost_confirmed"] == 10
    assert "10 writes the server had confirmed are gone" in caplog.text


async def test_a_connection_the_consumer_lost_makes_the_publisher_check_its_confirmed_writes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with EmbeddedServer() as server, redis.Redis.from_url(server.url) as admin:
        # One engine publishing and consuming over one transport.
        engine = UniversalMessageBusClient(_config("marketdata", server.url))
        engine.subscribe(FactorExposures, lambda _delivery: None)
        await engine.start()
        try:
            await engine.publish_many(trade(seq) for seq in range(1, 101))
            await engine.flush(timeout_s=60)
            newest = [entry_id for entry_id, _ in admin.xrevrange(MARKETDATA, count=10)]
            assert admin.xdel(MARKETDATA, *newest) == 10
            losses = engine.transport.connection_losses
            # Every connection of the engine is closed while it publishes nothing: the consumer's
            # next read is the call that finds out.
            admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
            await _until(lambda: engine.transport.connection_losses > losses, "a broken read")
            await engine.publish_many(trade(seq) for seq in range(101, 111))
            await engine.flush(timeout_s=60)
            stats = engine.stats()
        finally:
            await engine.close()
    assert stats["publish_lost_confirmed"] == 10
    assert "10 writes the server had confirmed are gone" in caplog.text
