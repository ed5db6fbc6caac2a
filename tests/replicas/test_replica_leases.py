"""Replicas of an engine under leases, on a real server: every stream the engine consumes is read
by exactly one live replica, shares are fair, a newcomer gets its share, a clean stop hands its
streams over, and a replica killed with SIGKILL is replaced with nothing lost.

Lease times are short here (one second, against two under `nautilus up`) so that takeovers are
quick, yet long enough that a loaded machine's event-loop stalls do not expire a live replica's
lease; every wait polls for a condition under a generous deadline, never for a timer.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from nautilus.analytics.v1.analytics_pb2 import TrendUpdate
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.ml.v1.ml_pb2 import Prediction
from nautilus.runtime import Delivery, MessageBusConfig, UniversalMessageBusClient
from nautilus.runtime.leases import fair_share, lease_key
from nautilus.runtime.server import EmbeddedServer
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert

from ..runtime.conftest import quote, trade

LEASE_MS = 1000
DEADLINE_S = 30.0
MARKETDATA = "nautilus-marketdata-streams"
WORKER = Path(__file__).with_name("replica_worker.py")
#: Four streams of the risk engine: four units for its replicas to share.
RISK_INPUTS = (Quote, ToxicityAlert, Prediction, TrendUpdate)


async def until(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {deadline_s:.0f} s: {what}")
        await asyncio.sleep(0.02)


def risk_replica(
    url: str, name: str, record: Callable[[str], None] | None = None
) -> UniversalMessageBusClient:
    config = MessageBusConfig(
        engine="risk",
        consumer_name=name,
        redis_url=url,
        replica_lease_ms=LEASE_MS,
        reclaim_idle_ms=LEASE_MS,
        trim_interval_ms=0,
        schema_registry=False,
    )
    client = UniversalMessageBusClient(config)

    def handle(delivery: Delivery[object]) -> None:
        if record is not None:
            record(delivery.stream)

    for message_class in RISK_INPUTS:
        client.subscribe(message_class, handle)
    return client


def held(client: UniversalMessageBusClient) -> frozenset[str]:
    assert client.leases is not None
    return client.leases.held


def test_shares_add_up_to_the_units_and_differ_by_at_most_one() -> None:
    members = ["risk-a", "risk-b", "risk-c"]
    shares = [fair_share(7, members, me) for me in members]
    assert shares == [3, 2, 2]
    assert fair_share(2, members, "risk-c") == 0
    assert fair_share(4, ["risk-a"], "risk-a") == 4


async def test_a_lone_replica_holds_every_stream(redis_url: str) -> None:
    replica = risk_replica(redis_url, "risk-a")
    await replica.start()
    try:
        assert held(replica) == set(replica.consumer.streams)
        assert len(held(replica)) == len(RISK_INPUTS)
    finally:
        await replica.close()


async def test_a_newcomer_gets_its_fair_share_and_no_stream_has_two_holders(
    redis_url: str,
) -> None:
    first, second = risk_replica(redis_url, "risk-a"), risk_replica(redis_url, "risk-b")
    await first.start()
    await second.start()
    try:
        await until(lambda: len(held(first)) == 2 and len(held(second)) == 2, "two streams each")
        assert held(first).isdisjoint(held(second))
        assert held(first) | held(second) == set(first.consumer.streams)
        server = redis.Redis.from_url(redis_url)
        for stream in held(second):
            assert server.get(lease_key(stream, "risk")) == b"risk-b"
    finally:
        await second.close()
        await first.close()


async def test_a_replica_that_stops_hands_its_streams_to_the_others(redis_url: str) -> None:
    first, second = risk_replica(redis_url, "risk-a"), risk_replica(redis_url, "risk-b")
    await first.start()
    await second.start()
    try:
        await until(lambda: len(held(second)) == 2, "the newcomer's share")
        await second.close()
        await until(lambda: len(held(first)) == len(RISK_INPUTS), "every stream back")
    finally:
        await second.close()
        await first.close()


async def test_each_replica_handles_only_the_streams_it_holds(redis_url: str) -> None:
    handled: dict[str, set[str]] = {"risk-a": set(), "risk-b": set()}
    replicas = [risk_replica(redis_url, name, handled[name].add) for name in handled]
    for replica in replicas:
        await replica.start()
    producers = [
        UniversalMessageBusClient(
            MessageBusConfig(engine=engine, redis_url=redis_url, schema_registry=False)
        )
        for engine in ("marketdata", "vpin", "ml", "analytics")
    ]
    try:
        await until(lambda: all(len(held(r)) == 2 for r in replicas), "two streams each")
        for producer in producers:
            await producer.start(consume=False)
        for seq in range(50):
            await producers[0].publish(quote(seq))
            await producers[1].publish(ToxicityAlert(instrument_id="AAPL.XNAS", vpin=0.9))
            await producers[2].publish(Prediction(instrument_id="AAPL.XNAS"))
            await producers[3].publish(TrendUpdate(instrument_id="AAPL.XNAS"))
        for producer in producers:
            await producer.flush()
        await until(
            lambda: sum(r.consumer.stats.handled for r in replicas) == 200, "every entry handled"
        )
        for replica, name in zip(replicas, handled, strict=True):
            assert handled[name] == held(replica)
    finally:
        for client in [*producers, *replicas]:
            await client.close()


def worker_log(folder: Path, name: str) -> list[tuple[int, int]]:
    """(quote number, delivery count) of each handling a worker logged, in order."""
    path = folder / f"{name}.log"
    if not path.exists():
        return []
    return [
        ((int(ts_event) - trade(0).ts_event) // 1_000_000, int(count))
        for ts_event, count in (line.split() for line in path.read_text().splitlines() if line)
    ]


@pytest.mark.slow
async def test_a_killed_holder_is_replaced_and_nothing_is_lost(
    private_server: EmbeddedServer, tmp_path: Path
) -> None:
    url = private_server.url
    server = redis.Redis.from_url(url)
    lease = lease_key(MARKETDATA, "vpin")
    total = 20_000
    producer = UniversalMessageBusClient(
        MessageBusConfig(engine="marketdata", redis_url=url, schema_registry=False)
    )
    await producer.start(consume=False)
    workers: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str) -> None:
        workers[name] = subprocess.Popen(
            [sys.executable, str(WORKER), url, name, str(tmp_path), str(LEASE_MS)]
        )

    try:
        start("vpin-a")
        await until(lambda: server.get(lease) == b"vpin-a", "vpin-a holds the stream")
        start("vpin-b")
        await until(
            lambda: server.zscore("nautilus:replicas:vpin", "vpin-b") is not None,
            "vpin-b is a live replica",
        )
        for seq in range(total // 2):
            await producer.publish(trade(seq))
        await producer.flush()
        await until(lambda: len(worker_log(tmp_path, "vpin-a")) > 1000, "vpin-a at work")
        workers["vpin-a"].send_signal(signal.SIGKILL)
        workers["vpin-a"].wait()
        for seq in range(total // 2, total):
            await producer.publish(trade(seq))
        await producer.flush()
        await until(lambda: server.get(lease) == b"vpin-b", "vpin-b took the stream over")

        def seen() -> set[int]:
            return {seq for name in workers for seq, _ in worker_log(tmp_path, name)}

        await until(lambda: len(seen()) == total, "every trade handled", deadline_s=120)
    finally:
        await producer.close()
        for worker in workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)

    first, second = worker_log(tmp_path, "vpin-a"), worker_log(tmp_path, "vpin-b")
    assert {seq for seq, _ in first + second} == set(range(total))
    # Only the holder read: vpin-b read nothing new before vpin-a died, and whatever it handled
    # twice was what vpin-a had read and not acknowledged (a redelivery, counted as such).
    newly_read = [seq for seq, count in second if count == 1]
    assert min(newly_read) > max(seq for seq, _ in first)
    assert len(first) == len({seq for seq, _ in first})
    redelivered = {seq for seq, count in second if count > 1}
    assert all(seq in redelivered for seq in {s for s, _ in first} & {s for s, _ in second})
