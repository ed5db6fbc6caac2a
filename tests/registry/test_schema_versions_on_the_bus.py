"""Two producer versions and a consumer on a real server: what flows, what is refused, what is
dead-lettered."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from google.protobuf.message import Message

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.errors import ClientStateError, DeadLetterReason
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.schema import CompatMode, Rule, SchemaIncompatibleError, fingerprint
from nautilus.runtime.wire import encode_entry
from tests.registry.conftest import QuoteVersion, quote_class

TS_OPEN = 1_764_077_400_000_000_000  # 2025-11-25 13:30:00 UTC
MARKETDATA_STREAM = "nautilus-marketdata-streams"


def _client(
    redis_url: str, engine: str, publishes: list[type[Message]] | None = None
) -> UniversalMessageBusClient:
    config = MessageBusConfig(
        engine=engine,
        redis_url=redis_url,
        consumer_name=f"{engine}-test",
        read_block_ms=20,
        trim_interval_ms=0,
    )
    return UniversalMessageBusClient(config, publishes=publishes)


def _quote(cls: type[Message], seq: int, **extra: object) -> Message:
    return cls(
        instrument_id="AAPL.XNAS",
        bid_price_e9=189_120_000_000 + seq * 10_000_000,
        ask_price_e9=189_130_000_000 + seq * 10_000_000,
        bid_size_e9=300_000_000_000,
        ask_size_e9=200_000_000_000,
        ts_event=TS_OPEN + seq,
        ts_init=TS_OPEN + seq + 1_000,
        **extra,
    )


async def _poll_until(client: UniversalMessageBusClient, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10.0  # bounds a hang; asserts no timing
    while not done():
        assert time.monotonic() < deadline, "condition not reached in time"
        await client.poll(block_ms=20)


async def test_a_compatible_second_producer_version_flows_to_an_older_consumer(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    newer_quote = quote_class(
        quote_version(append="  // Quote condition.\n  string condition = 8;")
    )
    risk = _client(redis_url, "risk")
    received: list[Delivery[Quote]] = []
    risk.subscribe(Quote, received.append)
    await risk.start(consume=False)
    v1 = _client(redis_url, "marketdata")
    v2 = _client(redis_url, "marketdata", publishes=[newer_quote])
    await v1.start(consume=False)
    await v2.start(consume=False)

    await v1.publish(_quote(Quote, 1))
    await v2.publish(_quote(newer_quote, 2, condition="R"))
    await v1.flush()
    await v2.flush()
    await _poll_until(risk, lambda: len(received) == 2)

    assert [d.message.bid_price_e9 for d in received] == [189_130_000_000, 189_140_000_000]
    assert all(isinstance(d.message, Quote) for d in received)
    assert await risk.dead_letters(Quote) == []
    assert len(await risk.registry.versions(Quote.DESCRIPTOR.full_name)) == 2  # type: ignore[union-attr]
    for client in (risk, v1, v2):
        await client.close()


async def test_an_incompatible_producer_is_refused_at_start(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    v1 = _client(redis_url, "marketdata")
    await v1.start(consume=False)
    text_prices = quote_class(
        quote_version(replace=("int64 bid_price_e9 = 2;", "string bid_price_e9 = 2;"))
    )
    v2 = _client(redis_url, "marketdata", publishes=[text_prices])

    with pytest.raises(SchemaIncompatibleError) as refused:
        await v2.start(consume=False)

    assert refused.value.type_name == Quote.DESCRIPTOR.full_name
    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("Quote.bid_price_e9", Rule.FIELD_TYPE_CHANGED)
    ]
    with pytest.raises(ClientStateError, match="not started"):
        await v2.publish(text_prices(instrument_id="AAPL.XNAS"))
    await v1.close()
    await v2.close()


async def test_an_entry_forged_with_an_incompatible_fingerprint_is_dead_lettered(
    redis_url: str, quote_version: QuoteVersion
) -> None:
    text_prices = quote_version(replace=("int64 bid_price_e9 = 2;", "string bid_price_e9 = 2;"))
    risk = _client(redis_url, "risk")
    handled: list[int] = []
    risk.subscribe(Quote, lambda d: handled.append(d.message.ts_event))
    await risk.start(consume=False)
    producer = _client(redis_url, "marketdata")
    await producer.start(consume=False)
    assert risk.registry is not None
    # A writer that bypassed the check (mode NONE) registered its schema anyway.
    await risk.registry.register(text_prices, mode=CompatMode.NONE)
    forged = quote_class(text_prices)(instrument_id="AAPL.XNAS", bid_price_e9="189.12")
    await producer.transport.add_one(
        MARKETDATA_STREAM,
        encode_entry(
            b"nautilus.marketdata.v1.Quote",
            fingerprint(text_prices).encode(),
            forged.SerializeToString(),
            producer=b"marketdata",
            published_at_ns=TS_OPEN,
            priority=MessagePriority.NORMAL,
        ),
    )
    await producer.publish(_quote(Quote, 3))
    await producer.flush()

    await _poll_until(risk, lambda: handled == [TS_OPEN + 3])

    (dead,) = await risk.dead_letters(Quote)
    assert dead.reason == DeadLetterReason.INCOMPATIBLE_SCHEMA
    assert "Quote.bid_price_e9: FIELD_TYPE_CHANGED" in dead.detail
    await risk.close()
    await producer.close()
