"""A compromised engine, holding its own credentials under the generated ACL, cannot speak for
another: it cannot write another engine's stream, and an entry it forges on its own stream in
another engine's name is dead-lettered `misrouted` without reaching a handler."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError

from nautilus.contract import bus_message_classes
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.dead_letter import DeadLetter
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.lanes import dead_letter_stream
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import engine_info, message_spec
from nautilus.runtime.schema.registry import SchemaRegistry
from nautilus.runtime.wire import encode_entry
from tests.security.conftest import AclServer

ORDER = bus_message_classes()["nautilus.strategy.v1.OrderRequest"]
ALERT = bus_message_classes()["nautilus.vpin.v1.ToxicityAlert"]
VPIN = engine_info("vpin").stream
STRATEGY = engine_info("strategy").stream


def _forged(message: Any, producer: bytes) -> dict[bytes, bytes]:
    """The fields of a well-formed entry of `message` that claims to come from `producer`."""
    spec = message_spec(type(message))
    fields = encode_entry(
        spec.type_bytes,
        spec.fingerprint_bytes,
        message.SerializeToString(),
        producer=producer,
        published_at_ns=1,
        priority=MessagePriority.HIGH,
    )
    return dict(zip(fields[::2], fields[1::2], strict=True))


async def _register_contract(acl: AclServer) -> None:
    redis = Redis.from_url(acl.url("schema-admin"))
    try:
        await SchemaRegistry(redis).register_all(
            [c.DESCRIPTOR for c in bus_message_classes().values()]
        )
    finally:
        await redis.aclose()


async def test_a_compromised_vpin_cannot_write_strategys_stream(acl_server: AclServer) -> None:
    vpin = Redis.from_url(acl_server.url("vpin"))
    try:
        with pytest.raises(NoPermissionError):
            await vpin.xadd(STRATEGY, _forged(ORDER(client_order_id="O-forged"), b"strategy"))
    finally:
        await vpin.aclose()


async def test_entries_forged_on_vpins_own_stream_never_reach_risk(
    acl_server: AclServer,
) -> None:
    await _register_contract(acl_server)
    handled: list[Delivery[Any]] = []

    async def on_order(delivery: Delivery[Any]) -> None:
        handled.append(delivery)

    async def on_alert(delivery: Delivery[Any]) -> None:
        handled.append(delivery)

    config = MessageBusConfig(
        engine="risk", redis_url=acl_server.url("risk"), trim_interval_ms=0, read_block_ms=20
    )
    risk = UniversalMessageBusClient(config, publishes=())
    risk.subscribe(ORDER, on_order)
    risk.subscribe(ALERT, on_alert)
    await risk.start(consume=False)
    vpin = Redis.from_url(acl_server.url("vpin"))
    try:
        # An order on VPIN's own stream in Strategy's name, and an alert in Strategy's name.
        await vpin.xadd(VPIN, _forged(ORDER(client_order_id="O-forged"), b"strategy"))
        await vpin.xadd(VPIN, _forged(ALERT(instrument_id="BTCUSDT.BINANCE"), b"strategy"))
        await risk.drain()
        dead = Redis.from_url(acl_server.url("operator"))
        try:
            letters = [
                DeadLetter.from_entry(e) for e in await dead.xrange(dead_letter_stream(VPIN))
            ]
        finally:
            await dead.aclose()
    finally:
        await vpin.aclose()
        await risk.close()
    assert handled == []
    assert [letter.reason for letter in letters] == ["misrouted", "misrouted"]
    assert acl_server.acl_log() == []
