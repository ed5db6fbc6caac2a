"""The bus on a real 3-master Redis Cluster (tests/conftest.py starts it on free ports): found from
any node's URL, every key in its stream's slot, streams on several masters read by one consumer,
the registry's transactions and the dead-letter replay script each within one slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient
from nautilus.runtime.admin import RedisAdmin, open_client
from nautilus.runtime.dead_letter import DeadLetter, read_dead_letters
from nautilus.runtime.lanes import priority_lane, retry_lane, stream_of_key
from nautilus.runtime.retry_lane import replay_to_groups
from nautilus.runtime.schema.registry import SchemaRegistry
from nautilus.runtime.server import CLUSTER_SLOTS, EmbeddedCluster
from nautilus.runtime.transport.redis import RedisTransport
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert
from tests.runtime.conftest import flash_crash_warning, quote, toxicity_alert

MARKETDATA = "nautilus-marketdata-streams"
VPIN = "nautilus-vpin-streams"


def _master_of(cluster: EmbeddedCluster, key: str) -> int:
    """The port of the master serving `key`, as the cluster itself says."""
    with redis.Redis.from_url(cluster.url) as connection:
        slot = int(connection.execute_command("CLUSTER KEYSLOT", key))
        for first, last, master, *_ in connection.execute_command("CLUSTER SLOTS"):
            if int(first) <= slot <= int(last):
                return int(master[1])
    raise AssertionError(f"no master serves slot {slot}")


def _config(engine: str, url: str, **overrides: object) -> MessageBusConfig:
    settings: dict[str, object] = {
        "engine": engine,
        "redis_url": url,
        "reclaim_idle_ms": 500,
        "read_block_ms": 200,
        "trim_interval_ms": 0,
    }
    settings.update(overrides)
    return MessageBusConfig(**settings)  # type: ignore[arg-type]


async def _until(done: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def test_the_cluster_serves_every_slot_from_three_masters(
    session_cluster: EmbeddedCluster,
) -> None:
    with redis.Redis.from_url(session_cluster.url) as connection:
        ranges = sorted(
            (int(first), int(last), int(master[1]))
            for first, last, master, *_ in connection.execute_command("CLUSTER SLOTS")
        )
    assert sum(last - first + 1 for first, last, _ in ranges) == CLUSTER_SLOTS
    assert {port for _, _, port in ranges} == {node.port for node in session_cluster.nodes}


async def test_a_transport_given_any_node_finds_the_cluster(
    cluster_url: str, session_cluster: EmbeddedCluster
) -> None:
    for url in session_cluster.urls:
        transport = RedisTransport(url)
        try:
            await transport.connect()
            assert transport.is_cluster
        finally:
            await transport.close()


async def test_a_transport_on_a_single_server_stays_a_single_server_client(
    redis_url: str,
) -> None:
    transport = RedisTransport(redis_url)
    try:
        await transport.connect()
        assert not transport.is_cluster
    finally:
        await transport.close()


async def test_one_consumer_reads_streams_served_by_different_masters(
    cluster_url: str, session_cluster: EmbeddedCluster
) -> None:
    assert _master_of(session_cluster, MARKETDATA) != _master_of(session_cluster, VPIN)
    marketdata = UniversalMessageBusClient(_config("marketdata", session_cluster.urls[1]))
    vpin = UniversalMessageBusClient(_config("vpin", session_cluster.urls[2]))
    risk = UniversalMessageBusClient(_config("risk", session_cluster.urls[0]))
    quotes: list[Delivery[Quote]] = []
    alerts: list[Delivery[ToxicityAlert]] = []
    warnings: list[Delivery[FlashCrashWarning]] = []
    risk.subscribe(Quote, quotes.append)
    risk.subscribe(ToxicityAlert, alerts.append)
    risk.subscribe(FlashCrashWarning, warnings.append)
    await marketdata.start()
    await vpin.start()
    await risk.start()  # its consume loop: blocking reads on both masters at once
    try:
        for seq in range(200):
            await marketdata.publish(quote(seq))
        await vpin.publish(toxicity_alert(7))
        await vpin.publish(flash_crash_warning())
        await marketdata.flush()
        await _until(lambda: len(quotes) == 200 and len(alerts) == 1 and len(warnings) == 1)
    finally:
        for client in (marketdata, vpin, risk):
            await client.close()
    assert [d.message.bid_price_e9 for d in quotes] == [quote(i).bid_price_e9 for i in range(200)]
    assert warnings[0].lane == priority_lane(VPIN)


async def test_every_key_the_bus_writes_is_in_the_slot_of_its_stream(
    cluster_url: str, session_cluster: EmbeddedCluster
) -> None:
    vpin = UniversalMessageBusClient(_config("vpin", cluster_url))
    marketdata = UniversalMessageBusClient(_config("marketdata", cluster_url))
    await vpin.start()
    await marketdata.start()
    try:
        await vpin.publish(toxicity_alert(1))
        await vpin.publish(flash_crash_warning())
        await marketdata.publish(quote(1))
        await vpin.flush()
        await marketdata.flush()
    finally:
        await vpin.close()
        await marketdata.close()
    keys_by_master: dict[int, list[str]] = {}
    with redis.Redis.from_url(cluster_url) as any_node:
        for node in session_cluster.nodes:
            with redis.Redis.from_url(node.url) as master:
                keys = [key.decode() for key in master.scan_iter(count=1000)]
            keys_by_master[node.port] = keys
            for key in keys:
                # A stream's keys hash as the stream; registry keys as `nautilus:schema`.
                assert any_node.execute_command("CLUSTER KEYSLOT", key) == (
                    any_node.execute_command("CLUSTER KEYSLOT", stream_of_key(key))
                ), key
    assert priority_lane(VPIN) in keys_by_master[_master_of(session_cluster, VPIN)]
    assert MARKETDATA in keys_by_master[_master_of(session_cluster, MARKETDATA)]
    assert _master_of(session_cluster, MARKETDATA) != _master_of(session_cluster, VPIN)


async def test_the_registry_registers_with_a_transaction_in_its_one_slot(
    cluster_url: str, session_cluster: EmbeddedCluster
) -> None:
    registry_master = _master_of(session_cluster, "{nautilus:schema}:types")
    other = next(node.url for node in session_cluster.nodes if node.port != registry_master)
    client = await open_client(other)
    try:
        registry = SchemaRegistry(client)  # type: ignore[arg-type]
        first = await registry.register_all([Quote.DESCRIPTOR, ToxicityAlert.DESCRIPTOR])
        again = await registry.register_all([Quote.DESCRIPTOR])
        assert [r.created for r in first] == [True, True]
        assert [r.created for r in again] == [False]
        assert await registry.types() == sorted(
            ["nautilus.marketdata.v1.Quote", "nautilus.vpin.v1.ToxicityAlert"]
        )
    finally:
        await client.aclose()


async def test_a_dead_letter_is_replayed_to_its_groups_retry_lane_on_a_cluster(
    cluster_url: str, session_cluster: EmbeddedCluster
) -> None:
    with redis.RedisCluster.from_url(cluster_url) as cluster:
        cluster.xadd(priority_lane(VPIN), {b"v": b"1", b"t": b"nautilus.vpin.v1.ToxicityAlert"})
    risk = UniversalMessageBusClient(_config("risk", cluster_url))
    risk.subscribe(ToxicityAlert, lambda _delivery: None)
    await risk.start()
    admin = RedisAdmin.from_url(session_cluster.urls[-1])
    try:
        letters = await _dead_letters_from(admin, priority_lane(VPIN))
        replays = await replay_to_groups(admin, VPIN, letters)
        assert [(r.group, r.retry_lane, r.outcome) for r in replays] == [
            ("risk", retry_lane(VPIN, "risk"), "replayed")
        ]
        # Read again from the group's retry lane, still undecodable: dead-lettered from there.
        again = await _dead_letters_from(admin, retry_lane(VPIN, "risk"))
        assert [letter.reason.value for letter in again] == ["undecodable"]
    finally:
        await risk.close()
        await admin.close()


async def _dead_letters_from(admin: RedisAdmin, lane: str) -> list[DeadLetter]:
    deadline = time.monotonic() + 20
    while True:
        letters = [d for d in await read_dead_letters(admin, VPIN) if d.lane == lane]
        if letters:
            return letters
        assert time.monotonic() < deadline, f"no dead letter from {lane} in time"
        await asyncio.sleep(0.01)
