"""`TestBus`: engine authors test several generated clients together, in process, step by step."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from nautilus.clients.risk import RiskClient
from nautilus.clients.strategy import StrategyClient
from nautilus.clients.vpin import VPINClient
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import ClientStateError, Delivery, MessageBusConfig, UniversalMessageBusClient
from nautilus.runtime.testing import TestBus
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert
from tests.runtime.conftest import toxicity_alert

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_example_test_passes() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (example,) = [block for block in blocks if "TestBus()" in block]
    namespace: dict[str, Any] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_")]

    assert len(tests) == 1
    asyncio.run(tests[0]())


async def test_every_consumer_of_a_route_gets_each_message_once() -> None:
    async with TestBus() as bus:
        vpin = bus.client(VPINClient)
        risk = bus.client(RiskClient)
        strategy = bus.client(StrategyClient)
        heard: dict[str, list[int]] = {"risk": [], "strategy": []}

        def listener(engine: str) -> Any:
            def on_alert(alert: ToxicityAlert, delivery: Delivery[ToxicityAlert]) -> None:
                heard[engine].append(alert.bucket_index)

            return on_alert

        risk.on_toxicity_alert(listener("risk"))
        strategy.on_toxicity_alert(listener("strategy"))
        await bus.start()
        for bucket in range(3):
            await vpin.publish_toxicity_alert(toxicity_alert(bucket))

        processed = await bus.settle()

        assert heard == {"risk": [0, 1, 2], "strategy": [0, 1, 2]}
        assert processed == 6


async def test_a_message_a_handler_publishes_is_followed_through() -> None:
    async with TestBus() as bus:
        vpin = bus.client(VPINClient)
        seen: list[str] = []
        observer = bus.observer("desk")
        observer.subscribe(ToxicityAlert, lambda d: seen.append(d.message.instrument_id))
        vpin.on_quote(lambda quote, d: vpin.publish_toxicity_alert_nowait(toxicity_alert(1)))
        market = bus.untyped("marketdata")
        await bus.start()
        await market.publish(Quote(instrument_id="AAPL.XNAS"))

        await bus.settle()

        assert seen == ["AAPL.XNAS"]


async def test_the_clock_is_the_buses_and_moves_only_when_told() -> None:
    async with TestBus(start_ns=1_000) as bus:
        risk = bus.client(RiskClient)
        await bus.advance(500)

        assert risk.config.clock.timestamp_ns() == 1_500


def test_a_client_without_a_server_refuses_to_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)

    with pytest.raises(ClientStateError, match="no Redis server given"):
        UniversalMessageBusClient(MessageBusConfig(engine="risk"))
    with pytest.raises(ClientStateError, match="TestBus"):
        RiskClient.create()
