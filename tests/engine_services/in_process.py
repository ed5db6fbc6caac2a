"""The bus of service tests: engine services in this process, one test clock, typed clients.

Services and the test's own typed clients (the feeders and listeners standing in for the other
engines) share an `InMemoryTransport`, or, given a `redis_url`, each talk to that real server
through a transport of their own, as engine processes do. `settle()` writes and polls every client
until nothing is left to read, as the backtest driver does, so each test step is deterministic on
either.
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

from nautilus.engines.run_settings import DEFAULT_START_NS, RunSettings
from nautilus.engines.service import EngineService
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.clock import TestClock
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.transport.memory import InMemoryTransport
from nautilus.runtime.typed_client import TypedClient

__all__ = ["InProcessBus"]

C = TypeVar("C", bound=TypedClient)
S = TypeVar("S", bound=EngineService[Any])


class InProcessBus:
    """Typed clients and engine services on one transport kind under one test clock."""

    def __init__(self, start_ns: int = DEFAULT_START_NS, *, redis_url: str | None = None) -> None:
        self.clock = TestClock(start_ns)
        self.redis_url = redis_url
        self.transport = None if redis_url else InMemoryTransport(self.clock)
        self.clients: list[TypedClient] = []

    def bus(self, engine: str, **config: Any) -> UniversalMessageBusClient:
        settings: dict[str, Any] = {
            "consumer_name": f"{engine}-test",
            "clock": self.clock,
            "schema_registry": False,
            "trim_interval_ms": 0,
            "redis_url": self.redis_url or "",
            **config,
        }
        return UniversalMessageBusClient(
            MessageBusConfig(engine=engine, **settings), self.transport
        )

    def client(self, client_class: type[C], **config: Any) -> C:
        """A typed client of `client_class`'s engine (subscribe before `start`)."""
        client = client_class(self.bus(client_class.ENGINE, **config))
        self.clients.append(client)
        return client

    def service(
        self, service_class: type[S], settings: RunSettings | None = None, **config: Any
    ) -> S:
        """The engine service of `service_class` on a client of its own engine."""
        from nautilus.engines.catalog import ENGINES

        client_class, _ = ENGINES[service_class.ENGINE]
        client = client_class(self.bus(service_class.ENGINE, **config))
        self.clients.append(client)
        return service_class(client, settings or RunSettings())

    async def start(self) -> None:
        for client in self.clients:
            await client.start(consume=False)

    async def settle(self, timeout_s: float = 60.0) -> None:
        """Write every buffered message and poll every client until a round reads nothing."""
        deadline = time.monotonic() + timeout_s  # bounds a hang; asserts no timing
        while True:
            assert time.monotonic() < deadline, "the engines kept exchanging messages"
            for client in self.clients:
                if client.bus.publisher.unsent:
                    await client.flush()
            processed = 0
            for client in self.clients:
                processed += await client.bus.poll()
            if not processed and not any(c.bus.publisher.unsent for c in self.clients):
                return

    async def at(self, ts_ns: int) -> None:
        """Move the test clock to `ts_ns` (market time) before publishing what happens then."""
        self.clock.set_time(ts_ns)

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
