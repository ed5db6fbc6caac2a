"""Stream entries, lanes and consumer groups as the server holds them, against
docs/wire-format.md ("Streams and lanes", "Consumer groups", "Entry fields", "Reading an entry").

Entries the runtime writes are read back with plain XRANGE; entries a reader must accept are
written with plain XADD; groups are read with XINFO GROUPS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from nautilus.contract import fingerprints
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import MessageBusConfig, TestClock, UniversalMessageBusClient
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import engine_info, message_spec
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert
from tests.runtime.conftest import TS_OPEN, flash_crash_warning, quote, toxicity_alert
from tests.wire.raw_server import raw_connection, xadd_raw, xrange_raw

MARKETDATA = "nautilus-marketdata-streams"
VPIN = "nautilus-vpin-streams"
QUOTE = b"nautilus.marketdata.v1.Quote"
TRACE = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    with raw_connection(redis_url) as connection:
        yield connection


def client(redis_url: str, engine: str, **overrides: Any) -> UniversalMessageBusClient:
    settings: dict[str, Any] = {
        "engine": engine,
        "redis_url": redis_url,
        "consumer_name": f"{engine}-wire",
        "trim_interval_ms": 0,
        "read_block_ms": 20,
        "reclaim_idle_ms": 60_000,
        "clock": TestClock(TS_OPEN),
        **overrides,
    }
    return UniversalMessageBusClient(MessageBusConfig(**settings))


async def test_an_entry_has_the_documented_fields_in_the_documented_order(
    redis_url: str, server: redis.Redis
) -> None:
    async with client(redis_url, "marketdata") as producer:
        await producer.publish(quote(1), key="AAPL.XNAS", trace_context=TRACE)
        await producer.flush()

    ((_, fields),) = xrange_raw(server, MARKETDATA)
    assert [name for name, _ in fields] == [
        *(b"v", b"t", b"f", b"p", b"s", b"ts", b"pr", b"pi", b"sq", b"k", b"tc")
    ]
    value = dict(fields)
    assert value[b"v"] == b"1"
    assert value[b"t"] == QUOTE
    assert value[b"f"] == fingerprints()[QUOTE.decode()].encode()
    assert re.fullmatch(rb"[0-9a-f]{16}", value[b"f"])
    assert Quote.FromString(value[b"p"]) == quote(1)
    assert value[b"p"] == quote(1).SerializeToString()
    assert value[b"s"] == b"marketdata"
    assert value[b"ts"] == b"%d" % TS_OPEN
    assert value[b"pr"] == b"2"
    assert re.fullmatch(rb"[0-9a-f]{16}", value[b"pi"])
    assert value[b"sq"] == b"1"
    assert value[b"k"] == b"AAPL.XNAS"
    assert value[b"tc"] == TRACE.encode()


async def test_the_optional_fields_are_left_out_when_not_given(
    redis_url: str, server: redis.Redis
) -> None:
    async with client(redis_url, "marketdata") as producer:
        await producer.publish(quote(1))
        await producer.flush()

    ((_, fields),) = xrange_raw(server, MARKETDATA)
    assert [name for name, _ in fields] == [
        b"v",
        b"t",
        b"f",
        b"p",
        b"s",
        b"ts",
        b"pr",
        b"pi",
        b"sq",
    ]


@pytest.mark.parametrize(
    ("priority", "lane", "digit"),
    [
        (MessagePriority.LOW, MARKETDATA, b"1"),
        (MessagePriority.NORMAL, MARKETDATA, b"2"),
        (MessagePriority.HIGH, MARKETDATA, b"3"),
        (MessagePriority.URGENT, "{" + MARKETDATA + "}:urgent", b"4"),
        (MessagePriority.CRITICAL, "{" + MARKETDATA + "}:urgent", b"5"),
    ],
)
async def test_each_priority_goes_to_its_lane_with_its_number(
    redis_url: str, server: redis.Redis, priority: MessagePriority, lane: str, digit: bytes
) -> None:
    async with client(redis_url, "marketdata") as producer:
        await producer.publish(quote(1), priority=priority)
        await producer.flush()

    ((_, fields),) = xrange_raw(server, lane)
    assert dict(fields)[b"pr"] == digit
    other = MARKETDATA if lane.endswith(":urgent") else "{" + MARKETDATA + "}:urgent"
    assert xrange_raw(server, other) == []


async def test_without_a_chosen_priority_the_routes_priority_applies(
    redis_url: str, server: redis.Redis
) -> None:
    async with client(redis_url, "vpin") as producer:
        await producer.publish(toxicity_alert(1))  # routed URGENT
        await producer.flush()

    ((_, fields),) = xrange_raw(server, "{" + VPIN + "}:urgent")
    assert dict(fields)[b"pr"] == b"4"
    assert xrange_raw(server, VPIN) == []


async def test_a_producer_declares_a_group_per_routed_engine_on_both_lanes(
    redis_url: str, server: redis.Redis
) -> None:
    async with client(redis_url, "vpin") as producer:
        await producer.publish(toxicity_alert(1))
        await producer.flush()

    # Every engine the contract routes VPIN's types to; external parties keep no group.
    routed = {
        consumer
        for message in (ToxicityAlert, FlashCrashWarning)
        for consumer in message_spec(message).route.consumers
        if not engine_info(consumer).external
    }
    assert {"risk", "analytics", "strategy"} <= routed
    for lane in (VPIN, "{" + VPIN + "}:urgent"):
        groups: list[dict[str, Any]] = server.xinfo_groups(lane)
        assert {g["name"].decode() for g in groups} == routed
        assert all(g["last-delivered-id"] == b"0-0" for g in groups), lane


async def test_a_reader_accepts_fields_in_any_order_and_ignores_unknown_ones(
    redis_url: str, server: redis.Redis
) -> None:
    alert = toxicity_alert(7)
    shuffled = [
        (b"x-unknown", b"\xff"),
        (b"pr", b"4"),
        (b"p", alert.SerializeToString()),
        (b"ts", b"%d" % TS_OPEN),
        (b"s", b"vpin"),
        (b"f", fingerprints()["nautilus.vpin.v1.ToxicityAlert"].encode()),
        (b"t", b"nautilus.vpin.v1.ToxicityAlert"),
        (b"v", b"1"),
    ]
    xadd_raw(server, "{" + VPIN + "}:urgent", shuffled)
    received: list[ToxicityAlert] = []
    risk = client(redis_url, "risk")
    risk.subscribe(ToxicityAlert, lambda d: received.append(d.message))
    await risk.start(consume=False)
    await risk.poll()
    await risk.close()

    assert received == [alert]
    assert server.exists("{" + VPIN + "}:dead-letter") == 0
    assert server.xpending("{" + VPIN + "}:urgent", "risk")["pending"] == 0


async def test_a_group_reads_the_whole_lane_and_acknowledges_types_it_does_not_handle(
    redis_url: str, server: redis.Redis
) -> None:
    async with client(redis_url, "vpin") as producer:
        await producer.publish(flash_crash_warning())  # risk handles only ToxicityAlert here
        await producer.flush()
    risk = client(redis_url, "risk")
    risk.subscribe(ToxicityAlert, lambda d: None)
    await risk.start(consume=False)
    await risk.poll()
    await risk.close()

    ((entry_id, _),) = xrange_raw(server, "{" + VPIN + "}:urgent")
    (group,) = [g for g in server.xinfo_groups("{" + VPIN + "}:urgent") if g["name"] == b"risk"]
    assert (group["pending"], group["last-delivered-id"]) == (0, entry_id.encode())
    assert server.exists("{" + VPIN + "}:dead-letter") == 0
