"""The floor's jobs and the fan-out's consumers account for every entry, on a real server.

The bench divides our figures by the floor's and by the fan-out's deliveries, so those must be
real work: every entry written, read and acknowledged (nothing left pending), every quote handled
by each of the eleven groups. No timings are asserted.
"""

from __future__ import annotations

import pytest
import redis

from nautilus.bench.fanout import (
    best_effort_quote_consumers,
    fanout_consume,
    quote_consumers,
    server_usage,
)
from nautilus.bench.floors import (
    FLOOR_GROUP,
    entry_layouts,
    floor_consume,
    floor_publish,
    published_entries,
    server_floor_per_delivery,
)
from nautilus.bench.histogram import LatencyHistogram
from nautilus.bench.payloads import BULK_STREAM, quotes
from nautilus.clients.marketdata import MarketDataClient

pytestmark = pytest.mark.slow


def _ignore(_: str) -> None:
    """The jobs' `notify` callback (the worker process would forward it)."""


def _pending(url: str, group: str | bytes) -> int:
    with redis.Redis.from_url(url) as client:
        return int(client.xpending(BULK_STREAM, group)["pending"])


async def test_the_floor_publisher_lands_every_entry_flat_out(redis_url: str) -> None:
    result = await floor_publish(notify=_ignore, url=redis_url, start_at_ns=0, count=2_500)

    assert result["sent"] == 2_500
    with redis.Redis.from_url(redis_url) as client:
        assert client.xlen(BULK_STREAM) == 2_500


async def test_the_floor_consumer_reads_and_acknowledges_every_entry(redis_url: str) -> None:
    await floor_publish(notify=_ignore, url=redis_url, start_at_ns=0, count=1_200)

    result = await floor_consume(notify=_ignore, url=redis_url, expected=1_200)

    assert result["received"] == 1_200
    assert _pending(redis_url, FLOOR_GROUP) == 0


async def test_the_paced_floor_stamps_each_entry_and_the_consumer_times_each_one(
    redis_url: str,
) -> None:
    published = await floor_publish(
        notify=_ignore, url=redis_url, start_at_ns=0, rate=2_000, duration_s=0.2
    )
    with redis.Redis.from_url(redis_url) as client:
        stamps = [fields[b"ts"] for _, fields in client.xrange(BULK_STREAM)]

    result = await floor_consume(
        notify=_ignore, url=redis_url, expected=published["sent"], record_latency=True
    )

    assert published["sent"] == 400
    assert len(set(stamps)) == 400
    assert LatencyHistogram.decode(result["latency"]).count == 400


async def test_every_group_of_the_fan_out_handles_and_acknowledges_every_quote(
    redis_url: str,
) -> None:
    publisher = MarketDataClient.create(redis_url=redis_url, trim_interval_ms=0)
    await publisher.start(consume=False)
    for quote in quotes(60):
        await publisher.publish_quote(quote)
    await publisher.close()
    engines = quote_consumers()

    result = await fanout_consume(notify=_ignore, url=redis_url, engines=engines, expected=60)

    assert len(engines) == 11
    assert result["counts"] == dict.fromkeys(engines, 60)
    assert all(_pending(redis_url, engine) == 0 for engine in engines)


async def test_server_usage_counts_the_commands_between_two_readings(redis_url: str) -> None:
    before = server_usage(redis_url)
    await floor_publish(notify=_ignore, url=redis_url, start_at_ns=0, count=300)
    await floor_consume(notify=_ignore, url=redis_url, expected=300)

    spent = server_usage(redis_url) - before

    assert spent.commands["xadd"][0] == 300
    assert spent.commands["xreadgroup"][0] >= 1
    assert spent.commands["xack"][0] >= 1
    assert spent.cpu_s >= 0


def test_the_fan_out_floor_drains_entries_as_the_marketdata_client_writes_them() -> None:
    entry = published_entries()[0]

    assert entry[0::2] == [b"v", b"t", b"f", b"p", b"s", b"ts", b"pr", b"pi", b"sq"]


def test_the_groups_reading_quotes_without_ack_are_those_that_get_no_trade_at_least_once() -> None:
    assert best_effort_quote_consumers() == [
        "collateral",
        "ml",
        "portfolio",
        "risk",
        "strategy",
        "websocket",
    ]


def test_the_fewer_field_layouts_carry_the_same_values_in_fewer_fields() -> None:
    layouts = entry_layouts()
    written = layouts["9 fields (as written)"]

    assert [len(entries[0]) // 2 for entries in layouts.values()] == [9, 4, 2]
    for entries in layouts.values():
        assert len(entries) == len(written)
        for entry, original in zip(entries, written, strict=True):
            values = b"\x1f".join(entry[1::2])
            assert all(value in values for value in original[1::2])
            assert sum(map(len, entry[1::2])) == sum(map(len, original[1::2])) + (
                len(original) // 2 - len(entry) // 2
            )


def test_the_floor_writes_and_drains_a_given_layout_on_every_group(redis_url: str) -> None:
    two_fields = entry_layouts()["2 fields (all but the payload joined)"]
    before = server_usage(redis_url)

    figures = server_floor_per_delivery(redis_url, 1_500, 3, noack=False, entries=two_fields)

    spent = server_usage(redis_url) - before
    assert figures["server_us_per_group_delivery"] > 0
    assert spent.commands["xadd"][0] == 1_500
    assert spent.commands["xack"][0] == 3 * 3  # 3 groups, 3 batches of 500 each
    with redis.Redis.from_url(redis_url) as client:
        assert client.exists(BULK_STREAM) == 0
