"""Typed clients on a real server: routed traffic flows with its context; misuse is refused."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis

from nautilus.clients.marketdata import MarketDataClient
from nautilus.clients.risk import RiskClient
from nautilus.clients.vpin import VPINClient
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.risk.v1.risk_pb2 import RiskMetrics
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.errors import PublishRejectedError, RoutingError
from nautilus.runtime.priority import MessagePriority
from nautilus.strategy.v1.strategy_pb2 import OrderRequest
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning

TS_OPEN = 1_764_077_400_000_000_000  # 2025-11-25 13:30:00 UTC


def _settings(redis_url: str, engine: str) -> dict[str, object]:
    return {
        "redis_url": redis_url,
        "consumer_name": f"{engine}-typed-test",
        "read_block_ms": 20,
        "trim_interval_ms": 0,
    }


async def test_a_typed_handler_gets_the_message_and_its_delivery_context(redis_url: str) -> None:
    risk = RiskClient.create(**_settings(redis_url, "risk"))
    seen: list[tuple[Quote, Delivery[Quote]]] = []

    async def on_quote(quote: Quote, delivery: Delivery[Quote]) -> None:
        seen.append((quote, delivery))

    risk.on_quote(on_quote)
    await risk.start(consume=False)
    async with MarketDataClient.create(**_settings(redis_url, "marketdata")) as marketdata:
        quote = Quote(
            instrument_id="AAPL.XNAS",
            bid_price_e9=189_120_000_000,
            ask_price_e9=189_130_000_000,
            ts_event=TS_OPEN,
            ts_init=TS_OPEN + 1_000,
        )
        await marketdata.publish_quote(quote, key="AAPL.XNAS")
        await marketdata.flush()
    deadline = time.monotonic() + 10.0  # bounds a hang; asserts no timing
    while not seen:
        assert time.monotonic() < deadline
        await risk.bus.poll(block_ms=20)
    await risk.close()

    ((received, delivery),) = seen
    assert received == quote
    assert delivery.producer == "marketdata"
    assert delivery.key == "AAPL.XNAS"
    assert delivery.priority is MessagePriority.NORMAL
    assert delivery.delivery_count == 1
    assert delivery.stream == "nautilus-marketdata-streams"
    assert delivery.published_at_ns > 0


async def test_a_critical_default_comes_from_the_schema(redis_url: str) -> None:
    strategy = UniversalMessageBusClient(
        MessageBusConfig(engine="strategy", **_settings(redis_url, "strategy"))  # type: ignore[arg-type]
    )
    got: list[Delivery[FlashCrashWarning]] = []
    strategy.subscribe(FlashCrashWarning, got.append)
    await strategy.start(consume=False)
    async with VPINClient.create(**_settings(redis_url, "vpin")) as vpin:
        await vpin.publish_flash_crash_warning(FlashCrashWarning(instrument_id="AAPL.XNAS"))
    deadline = time.monotonic() + 10.0
    while not got:
        assert time.monotonic() < deadline
        await strategy.poll(block_ms=20)
    await strategy.close()
    assert got[0].priority is MessagePriority.CRITICAL
    assert got[0].lane == "{nautilus-vpin-streams}:urgent"


def test_a_client_refuses_a_bus_client_of_another_engine(redis_url: str) -> None:
    bus = UniversalMessageBusClient(
        MessageBusConfig(engine="vpin", **_settings(redis_url, "vpin"))  # type: ignore[arg-type]
    )
    with pytest.raises(RoutingError, match="'risk' engine's client"):
        RiskClient(bus)


async def test_the_runtime_refuses_what_the_types_forbid(redis_url: str) -> None:
    vpin = VPINClient.create(**_settings(redis_url, "vpin"))
    with pytest.raises(RoutingError, match="subscribe to"):
        vpin.bus.subscribe(OrderRequest, lambda delivery: None)
    await vpin.start(consume=False)
    with pytest.raises(RoutingError, match="producer is 'marketdata'"):
        await vpin.bus.publish(Quote(instrument_id="AAPL.XNAS"))
    await vpin.close()


async def test_a_typed_publish_waiting_for_landing_raises_when_the_server_refuses_it(
    redis_url: str,
) -> None:
    async with RiskClient.create(**_settings(redis_url, "risk")) as risk:
        with redis.Redis.from_url(redis_url) as connection:  # the lane key clobbered
            connection.set("nautilus-risk-streams", "not a stream")
        with pytest.raises(PublishRejectedError) as raised:
            async with asyncio.timeout(30):  # bounds a hang; asserts no timing
                await risk.publish_risk_metrics(RiskMetrics(account_id="ACC-1"), wait_landed=True)
        assert raised.value.kind == "WRONGTYPE"
        assert raised.value.message_type == "nautilus.risk.v1.RiskMetrics"
