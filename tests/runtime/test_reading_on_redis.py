"""What a consumer does with each entry it reads, on a real server: routing, fingerprints, headers,
a handler raising CancelledError, a consume loop that dies, leaving the group, and the sweep of
stale consumers (other programs' too, whatever bytes name them)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import redis

from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.runtime import Delivery, MessagePriority
from nautilus.runtime.dead_letter import DeadLetter
from nautilus.runtime.errors import DeadLetterReason
from nautilus.runtime.http_endpoints import health_report
from nautilus.runtime.routing import message_spec
from nautilus.runtime.wire import encode_entry
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert

from .conftest import TS_OPEN, Bus, quote, toxicity_alert, trade

MARKETDATA = "nautilus-marketdata-streams"


def write_raw(redis_url: str, lane: str, fields: dict[bytes, bytes]) -> None:
    with redis.Redis.from_url(redis_url) as connection:
        connection.xadd(lane, fields)  # type: ignore[arg-type]


def entry(
    message_type: type[Any],
    payload: bytes,
    *,
    fingerprint: str | None = None,
    producer: bytes = b"marketdata",
    **overrides: bytes,
) -> dict[bytes, bytes]:
    spec = message_spec(message_type)
    fields = encode_entry(
        spec.type_bytes,
        (fingerprint or spec.fingerprint).encode(),
        payload,
        producer=producer,
        published_at_ns=TS_OPEN,
        priority=MessagePriority.NORMAL,
    )
    values = dict(zip(fields[::2], fields[1::2], strict=True))
    values.update({name.encode(): value for name, value in overrides.items()})
    return values


async def wait_until(condition: Callable[[], bool], deadline_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline_s
    while not condition():
        assert loop.time() < give_up, "condition not reached within the deadline"
        await asyncio.sleep(0.01)


async def consume_all(bus: Bus, engine: str, handled: list[Delivery[Any]], *types: Any) -> Any:
    """A started consumer of `types` that appends every delivery to `handled` (not consuming)."""
    client = bus.client(engine)
    for message_type in types:
        client.subscribe(message_type, handled.append)
    await client.start(consume=False)
    return client


async def dead_letters(client: Any) -> list[DeadLetter]:
    return list(await client.dead_letters(Quote))


async def test_an_entry_from_another_producer_is_dead_lettered_misrouted(
    redis_bus: Bus, redis_url: str
) -> None:
    handled: list[Delivery[Any]] = []
    risk = await consume_all(redis_bus, "risk", handled, Quote)
    write_raw(redis_url, MARKETDATA, entry(Quote, quote(1).SerializeToString(), producer=b"vpin"))
    await risk.drain()
    letters = await dead_letters(risk)
    await risk.close()

    assert handled == []
    assert [letter.reason for letter in letters] == [DeadLetterReason.MISROUTED]
    assert "'marketdata'" in letters[0].detail
    assert "'vpin'" in letters[0].detail


async def test_a_type_routed_on_another_stream_is_dead_lettered_misrouted(
    redis_bus: Bus, redis_url: str
) -> None:
    handled: list[Delivery[Any]] = []
    risk = await consume_all(redis_bus, "risk", handled, Quote)
    alert = entry(ToxicityAlert, toxicity_alert(1).SerializeToString(), producer=b"vpin")
    write_raw(redis_url, MARKETDATA, alert)
    await risk.drain()
    letters = await dead_letters(risk)
    await risk.close()

    assert handled == []
    assert [letter.reason for letter in letters] == [DeadLetterReason.MISROUTED]
    assert "nautilus-vpin-streams" in letters[0].detail


async def test_a_fingerprint_registered_for_another_type_is_a_mismatch(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("marketdata")
    await producer.start()  # registers Quote's and Trade's schemas
    handled: list[Delivery[Any]] = []
    risk = await consume_all(redis_bus, "risk", handled, Quote, Trade)
    quote_fingerprint = message_spec(Quote).fingerprint
    disguised = entry(Trade, quote(1).SerializeToString(), fingerprint=quote_fingerprint)
    write_raw(redis_url, MARKETDATA, disguised)
    await risk.drain()
    letters = await dead_letters(risk)
    await risk.close()
    await producer.close()

    assert handled == []
    assert [letter.reason for letter in letters] == [DeadLetterReason.FINGERPRINT_MISMATCH]
    assert "nautilus.marketdata.v1.Quote" in letters[0].detail


async def test_a_registry_backed_consumer_skips_a_type_it_does_not_handle(
    redis_bus: Bus, redis_url: str
) -> None:
    handled: list[Delivery[Any]] = []
    risk = await consume_all(redis_bus, "risk", handled, Quote)
    assert risk.registry is not None
    write_raw(
        redis_url,
        MARKETDATA,
        entry(Trade, trade(1).SerializeToString(), fingerprint="00000000deadbeef"),
    )
    write_raw(redis_url, MARKETDATA, entry(Quote, quote(2).SerializeToString()))
    await risk.drain()
    letters = await dead_letters(risk)
    ignored = risk.stats()["ignored"]
    await risk.close()

    assert letters == []
    assert ignored == 1
    assert [d.message for d in handled] == [quote(2)]


@pytest.mark.parametrize(
    "fields",
    [
        {"ts": b"-5"},
        {"ts": b"+5"},
        {"ts": b"1_764_077_400_000_000_000"},
        {"ts": b" 1764077400000000000 "},
        {"ts": b""},
        {"ts": "١٧٦".encode()},
        {"pr": b"0"},
        {"pr": b"6"},
        {"pr": b"+2"},
        {"pr": b" 2"},
    ],
)
async def test_headers_outside_the_wire_format_are_undecodable(
    redis_bus: Bus, redis_url: str, fields: dict[str, bytes]
) -> None:
    handled: list[Delivery[Any]] = []
    risk = await consume_all(redis_bus, "risk", handled, Quote)
    write_raw(redis_url, MARKETDATA, entry(Quote, quote(1).SerializeToString(), **fields))
    await risk.drain()
    letters = await dead_letters(risk)
    await risk.close()

    assert handled == []
    assert [letter.reason for letter in letters] == [DeadLetterReason.UNDECODABLE]


async def test_a_handler_raising_cancelled_error_fails_that_delivery_only(
    redis_bus: Bus,
) -> None:
    producer = redis_bus.client("marketdata")
    vpin = redis_bus.client("vpin")
    deliveries: list[tuple[str, int]] = []

    def handler(delivery: Delivery[Trade]) -> None:
        deliveries.append((delivery.message.trade_id, delivery.delivery_count))
        if delivery.delivery_count == 1 and len(deliveries) == 1:
            raise asyncio.CancelledError("handler gave up")

    vpin.subscribe(Trade, handler)
    await producer.start()
    await vpin.start()
    await producer.publish_many(trade(i) for i in range(3))
    await producer.flush()
    await wait_until(lambda: vpin.stats()["handled"] == 3)
    report = await health_report([vpin])
    await vpin.close()
    await producer.close()

    assert [count for _, count in deliveries].count(2) == 1
    assert vpin.stats()["failed"] == 1
    assert report["status"] == "ok"


class _Fatal(BaseException):
    """Not an Exception: nothing in the consumer may take it for a handler failure."""


async def test_health_turns_unavailable_when_a_consume_loop_is_dead(redis_bus: Bus) -> None:
    producer = redis_bus.client("marketdata")
    risk = redis_bus.client("risk")

    def handler(delivery: Delivery[Quote]) -> None:
        raise _Fatal("the process is going down")

    risk.subscribe(Quote, handler)
    await producer.start()
    await risk.start()
    await producer.publish(quote(1))
    await producer.flush()
    report = await health_report([risk])
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 30
    while report["status"] == "ok" and loop.time() < give_up:
        await asyncio.sleep(0.01)
        report = await health_report([risk])
    await risk.close()
    await producer.close()

    assert report["status"] == "consumer-stopped"
    assert "_Fatal" in report["error"]


def consumers_of(redis_url: str, lane: str, group: str) -> dict[str, int]:
    with redis.Redis.from_url(redis_url) as connection:
        return {
            c["name"].decode(): int(c["pending"]) for c in connection.xinfo_consumers(lane, group)
        }


async def test_a_clean_close_removes_the_consumer_from_its_group(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("marketdata")
    risk = redis_bus.client("risk")
    risk.subscribe(Quote, lambda delivery: None)
    await producer.start()
    await risk.start()
    await producer.publish_many(quote(i) for i in range(5))
    await producer.flush()
    await wait_until(lambda: risk.stats()["handled"] == 5)
    name = risk.config.consumer_name
    assert name in consumers_of(redis_url, MARKETDATA, "risk")
    await risk.close()
    await producer.close()

    assert name not in consumers_of(redis_url, MARKETDATA, "risk")


async def test_a_consumer_holding_entries_stays_until_they_are_reclaimed(
    redis_bus: Bus, redis_url: str
) -> None:
    producer = redis_bus.client("marketdata")
    failing = redis_bus.client("vpin")

    def fail(delivery: Delivery[Trade]) -> None:
        raise RuntimeError("handler bug")

    failing.subscribe(Trade, fail)
    await producer.start()
    await failing.start(consume=False)
    await producer.publish_many(trade(i) for i in range(3))
    await producer.flush()
    await failing.poll()
    name = failing.config.consumer_name
    await failing.close()

    assert consumers_of(redis_url, MARKETDATA, "vpin")[name] == 3
    handled: list[Delivery[Any]] = []
    survivor = redis_bus.client("vpin", stale_consumer_idle_ms=50)
    survivor.subscribe(Trade, handled.append)
    await survivor.start()
    await wait_until(lambda: len(handled) == 3)
    await wait_until(lambda: name not in consumers_of(redis_url, MARKETDATA, "vpin"))
    await survivor.close()
    await producer.close()

    assert {d.delivery_count for d in handled} == {2}


GHOSTS = {"risk-ghost-1", "risk-ghost-2"}


async def test_stale_consumers_with_nothing_pending_are_removed(
    redis_bus: Bus, redis_url: str
) -> None:
    risk = redis_bus.client("risk", stale_consumer_idle_ms=100)
    risk.subscribe(Quote, lambda delivery: None)
    await risk.start(consume=False)
    with redis.Redis.from_url(redis_url) as connection:
        for ghost in GHOSTS:
            connection.xgroup_createconsumer(MARKETDATA, "risk", ghost)
    assert set(consumers_of(redis_url, MARKETDATA, "risk")) >= GHOSTS
    await risk.close()

    live = redis_bus.client("risk", stale_consumer_idle_ms=100)
    live.subscribe(Quote, lambda delivery: None)
    await live.start()
    await wait_until(lambda: not set(consumers_of(redis_url, MARKETDATA, "risk")) & GHOSTS)
    await live.close()


def consumer_names(redis_url: str, lane: str, group: str) -> set[bytes]:
    """The group's consumers as the server names them (bytes, whatever their encoding)."""
    with redis.Redis.from_url(redis_url) as connection:
        return {c["name"] for c in connection.xinfo_consumers(lane, group)}


#: A consumer another program added to Risk's group under a name that is not UTF-8.
FOREIGN = b"\xfe\xffforeign"


async def risk_group(redis_bus: Bus) -> None:
    """Risk's groups on the market-data lanes, created by a client that then leaves them."""
    risk = redis_bus.client("risk")
    risk.subscribe(Quote, lambda delivery: None)
    await risk.start(consume=False)
    await risk.close()


async def test_a_stale_consumer_whose_name_is_not_utf8_is_removed_by_its_exact_name(
    redis_bus: Bus, redis_url: str
) -> None:
    await risk_group(redis_bus)
    with redis.Redis.from_url(redis_url) as connection:
        connection.xgroup_createconsumer(MARKETDATA, "risk", FOREIGN)  # type: ignore[arg-type]

    live = redis_bus.client("risk", stale_consumer_idle_ms=100)
    live.subscribe(Quote, lambda delivery: None)
    await live.start()
    await wait_until(lambda: FOREIGN not in consumer_names(redis_url, MARKETDATA, "risk"))
    await live.close()


async def test_a_consumer_whose_name_is_not_utf8_is_kept_while_it_holds_entries(
    redis_bus: Bus, redis_url: str
) -> None:
    await risk_group(redis_bus)
    ghost = b"risk-ghost"
    connection = redis.Redis.from_url(redis_url)
    connection.xadd(MARKETDATA, {b"foreign": b"entry"})
    connection.xreadgroup("risk", FOREIGN, {MARKETDATA: ">"})  # type: ignore[arg-type]

    live = redis_bus.client("risk", stale_consumer_idle_ms=100, reclaim_idle_ms=600_000)
    live.subscribe(Quote, lambda delivery: None)
    await live.start()
    # A ghost holding nothing, added twice: its second removal is by a sweep that began after one
    # had judged every consumer of the lane.
    for _ in range(2):
        connection.xgroup_createconsumer(MARKETDATA, "risk", ghost)  # type: ignore[arg-type]
        await wait_until(lambda: ghost not in consumer_names(redis_url, MARKETDATA, "risk"))
    await live.close()

    assert FOREIGN in consumer_names(redis_url, MARKETDATA, "risk")
    connection.close()
