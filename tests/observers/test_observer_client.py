"""Observers: their own group, read-only, any message type, never an engine's group."""

from __future__ import annotations

import pydantic
import pytest

from nautilus.clients.risk import RiskClient
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.risk.v1.risk_pb2 import RiskMetrics
from nautilus.runtime import (
    InMemoryTransport,
    MessageBusConfig,
    RoutingError,
    TestClock,
    UniversalMessageBusClient,
)
from tests.runtime.conftest import TS_OPEN, quote

MARKETDATA = "nautilus-marketdata-streams"


def test_an_observer_consumes_through_a_group_of_its_own() -> None:
    config = MessageBusConfig(observer="desk", redis_url="redis://127.0.0.1:1/0")

    assert config.consumer_group == "observer:desk"
    assert config.consumer_name.startswith("observer:desk-")


def test_an_observer_with_an_engine_view_still_has_its_own_group() -> None:
    config = MessageBusConfig(engine="risk", observer="desk", redis_url="redis://127.0.0.1:1/0")

    assert config.consumer_group == "observer:desk"


def test_an_observer_may_not_claim_an_engine_group() -> None:
    with pytest.raises(pydantic.ValidationError, match="an observer consumes through"):
        MessageBusConfig(observer="desk", consumer_group="risk", redis_url="redis://x:1/0")


def test_joining_an_engine_group_points_to_observers() -> None:
    with pytest.raises(pydantic.ValidationError, match="observer=NAME"):
        MessageBusConfig(engine="strategy", consumer_group="risk", redis_url="redis://x:1/0")


@pytest.mark.parametrize("name", ["has space", "a:b", "-leading", "x" * 65])
def test_a_bad_observer_name_is_refused(name: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="observer name"):
        MessageBusConfig(observer=name, redis_url="redis://x:1/0")


def test_a_client_is_an_engine_or_an_observer() -> None:
    with pytest.raises(pydantic.ValidationError, match="engine is required"):
        MessageBusConfig(redis_url="redis://x:1/0")


async def test_an_observer_cannot_publish() -> None:
    transport = InMemoryTransport(TestClock(TS_OPEN))
    desk = RiskClient(
        UniversalMessageBusClient(
            MessageBusConfig(engine="risk", observer="desk", schema_registry=False), transport
        )
    )
    async with desk:
        with pytest.raises(RoutingError, match="observers are read-only"):
            await desk.publish_risk_metrics(RiskMetrics())


async def test_an_observer_sees_every_entry_an_engine_group_also_gets() -> None:
    transport = InMemoryTransport(TestClock(TS_OPEN))
    seen: list[str] = []
    handled: list[str] = []

    def settings(**more: object) -> MessageBusConfig:
        return MessageBusConfig(schema_registry=False, trim_interval_ms=0, **more)  # type: ignore[arg-type]

    producer = UniversalMessageBusClient(settings(engine="marketdata"), transport)
    risk = UniversalMessageBusClient(settings(engine="risk"), transport)
    risk.subscribe(Quote, lambda d: handled.append(d.entry_id))
    observer = UniversalMessageBusClient(settings(observer="desk"), transport)
    observer.subscribe(Quote, lambda d: seen.append(d.entry_id))
    await producer.start()
    await risk.start(consume=False)
    await observer.start(consume=False)
    for seq in range(10):
        await producer.publish(quote(seq))
    await producer.flush()

    await observer.drain()
    await risk.drain()

    assert len(seen) == 10
    assert handled == seen
    groups = {g.name for g in await transport.group_states(MARKETDATA)}
    assert "observer:desk" in groups
    await producer.close()
    await risk.close()
    await observer.close()


async def test_an_observer_declares_no_engine_groups() -> None:
    transport = InMemoryTransport(TestClock(TS_OPEN))
    observer = UniversalMessageBusClient(
        MessageBusConfig(engine="marketdata", observer="desk", schema_registry=False), transport
    )
    observer.subscribe(Quote, lambda d: None)

    await observer.start(consume=False)

    groups = {g.name for g in await transport.group_states(MARKETDATA)}
    assert groups == {"observer:desk"}
    await observer.close()
