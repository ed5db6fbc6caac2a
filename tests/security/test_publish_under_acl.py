"""Publishing as an engine's ACL user: every command the write path needs is granted, and a write
the ACL forbids fails its message with the server's NOPERM reply instead of being retried."""

from __future__ import annotations

import asyncio

import pytest

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import (
    MessageBusConfig,
    MessagePriority,
    PublishRejectedError,
    UniversalMessageBusClient,
    priority_lane,
)

from .conftest import AclServer

STREAM = "nautilus-marketdata-streams"


def _marketdata_client(url: str, **overrides: object) -> UniversalMessageBusClient:
    settings: dict[str, object] = {
        "engine": "marketdata",
        "redis_url": url,
        "schema_registry": False,  # engines read the registry; an operator registers
        "trim_interval_ms": 0,
    }
    settings.update(overrides)
    return UniversalMessageBusClient(MessageBusConfig(**settings))  # type: ignore[arg-type]


async def test_an_engine_publishes_and_reads_its_lanes_back_as_its_acl_user(
    acl_server: AclServer,
) -> None:
    producer = _marketdata_client(acl_server.url("marketdata"))
    await producer.start()
    for i in range(100):
        producer.publish_nowait(Quote(instrument_id="AAPL.XNAS", ts_event=i))
    await producer.publish(Quote(ts_event=100), priority=MessagePriority.CRITICAL)
    await producer.flush()
    entries = await producer.transport.range(STREAM)
    prepared = [producer.transport.prepare_add(STREAM, _fields(fields)) for _, fields in entries]
    # The read-back after lost replies (XREVRANGE) is allowed to the engine's user.
    assert await producer.transport.find_written(prepared, 0) == [True] * 100
    assert len(await producer.transport.range(priority_lane(STREAM))) == 1
    await producer.close()
    assert acl_server.acl_log() == []


async def test_a_write_the_acl_forbids_fails_with_noperm(acl_server: AclServer) -> None:
    producer = _marketdata_client(acl_server.url("vpin"), declare_consumer_groups=False)
    await producer.start()
    with pytest.raises(PublishRejectedError) as raised:
        async with asyncio.timeout(30):
            await producer.publish(Quote(ts_event=1), wait_landed=True)
    assert raised.value.kind == "NOPERM"
    assert producer.publisher.stats.rejected == 1
    await producer.close()


def _fields(fields: object) -> tuple[bytes, ...]:
    assert isinstance(fields, dict)
    return tuple(item for pair in fields.items() for item in pair)
