"""A backtest: the twelve engine services in one process, on one in-process transport, under a
test clock; the same input gives the same report, byte for byte.

The driver replays the market one market instant at a time: it sets the `TestClock` to the
instant, publishes every quote and trade of that instant through MarketData's typed client, and
then lets the engines settle: write every buffered message, then poll each engine once, in the
catalog's fixed order, and repeat until a whole round finds nothing to read. Every input of every
engine is thus handled before the market moves on, in an order that depends only on the data, and
every timestamp comes from the test clock. The engines' market-time timers fire as in a live run.

Alert latencies are measured on the test clock, which does not move while the engines settle: in
a backtest they are all 0 by construction (the live run measures real ones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nautilus.engines.catalog import ENGINES, build_service
from nautilus.engines.marketdata.service import MarketDataService
from nautilus.engines.report import build_report
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.clock import TestClock
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.lanes import dead_letter_stream
from nautilus.runtime.routing import engine_info
from nautilus.runtime.transport.memory import InMemoryTransport

__all__ = ["Backtest", "Progress", "run_backtest"]

#: Told `(market_ns_reached, events_published)` about every 1,000 market instants.
Progress = Callable[[int, int], None]

_PROGRESS_EVERY = 1_000


class Backtest:
    """Twelve services on one `InMemoryTransport` driven by one `TestClock`."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.clock = TestClock(settings.start_ns)
        self.transport = InMemoryTransport(self.clock)
        self.services: dict[str, EngineService[Any]] = {
            engine: build_service(engine, self._bus(engine), settings) for engine in ENGINES
        }
        marketdata = self.services["marketdata"]
        assert isinstance(marketdata, MarketDataService)
        self.marketdata = marketdata

    def _bus(self, engine: str) -> UniversalMessageBusClient:
        config = MessageBusConfig(
            engine=engine,
            consumer_name=f"{engine}-backtest",
            clock=self.clock,
            schema_registry=False,
            trim_interval_ms=0,
        )
        return UniversalMessageBusClient(config, self.transport)

    async def run(self, progress: Progress | None = None) -> dict[str, Any]:
        """Replay the whole market; returns the run report."""
        for service in self.services.values():
            await service.start(consume=False)
        try:
            instant: int | None = None
            instants = 0
            for ts_ns, message in self.settings.market():
                if ts_ns != instant:
                    if instant is not None:
                        await self.settle()
                    self.clock.set_time(ts_ns)
                    instant = ts_ns
                    instants += 1
                    if progress is not None and instants % _PROGRESS_EVERY == 0:
                        progress(ts_ns, self.marketdata.events)
                await self.marketdata.publish_market(message)
            await self.settle()
            self.marketdata.replay_state = "done"
            return build_report(
                self.settings,
                {engine: service.summary() for engine, service in self.services.items()},
                mode="backtest",
                dead_letters=await self._dead_letters(),
            )
        finally:
            for service in self.services.values():
                await service.close()

    async def settle(self) -> int:
        """Write and poll until no engine has anything left to read; entries processed."""
        clients = [service.client for service in self.services.values()]
        total = 0
        while True:
            for client in clients:
                if client.bus.publisher.unsent:
                    await client.flush()
            processed = 0
            for client in clients:
                processed += await client.bus.poll()
            total += processed
            if not processed and not any(client.bus.publisher.unsent for client in clients):
                return total

    async def _dead_letters(self) -> dict[str, int]:
        counts = {}
        for engine in ENGINES:
            stream = engine_info(engine).stream
            counts[stream] = await self.transport.length(dead_letter_stream(stream))
        return counts


async def run_backtest(settings: RunSettings, progress: Progress | None = None) -> dict[str, Any]:
    """The report of a backtest of `settings`."""
    return await Backtest(settings).run(progress)
