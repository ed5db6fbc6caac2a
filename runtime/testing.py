"""`TestBus`: several generated clients on one in-process bus, for engine authors' tests.

The in-process transport is a real implementation of the bus's contract (consumer groups, pending
entries, claims, trimming, dead letters), the same one backtests run on, so what a test sees is
what Redis would do, minus the network. A `TestBus` holds one transport and one test clock; every
client made from it shares them, and `settle()` writes what is buffered and lets every client
consume until nothing is left, so a test reads as: publish, settle, assert. No Redis, no timers,
no background tasks: each step is deterministic.

    async with TestBus() as bus:
        vpin = bus.client(VPINClient)
        risk = bus.client(RiskClient)
        risk.on_toxicity_alert(handler)
        await bus.start()
        await vpin.publish_toxicity_alert(alert)
        await bus.settle()
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self, TypeVar

from google.protobuf.message import Message

from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.clock import TestClock
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.dead_letter import DeadLetter
from nautilus.runtime.transport.memory import InMemoryTransport
from nautilus.runtime.typed_client import TypedClient

__all__ = ["TestBus"]

C = TypeVar("C", bound=TypedClient)

#: 2025-11-25 13:30:00 UTC (a US cash open), where a TestBus's clock starts by default.
DEFAULT_START_NS = 1_764_077_400_000_000_000


class TestBus:
    """One in-process transport and test clock, and the clients a test makes on them."""

    __test__ = False  # not a pytest test class

    def __init__(self, start_ns: int = DEFAULT_START_NS) -> None:
        self.clock = TestClock(start_ns)
        self.transport = InMemoryTransport(self.clock)
        self._buses: list[UniversalMessageBusClient] = []
        self._started = False

    def _bus(self, **config: Any) -> UniversalMessageBusClient:
        settings: dict[str, Any] = {
            "clock": self.clock,
            "schema_registry": False,
            "trim_interval_ms": 0,
            **config,
        }
        settings.setdefault(
            "consumer_name", f"{config.get('observer') or config.get('engine')}-test"
        )
        bus = UniversalMessageBusClient(MessageBusConfig(**settings), self.transport)
        self._buses.append(bus)
        return bus

    def client(self, client_class: type[C], **config: Any) -> C:
        """A generated client (`RiskClient`, ...) on this bus; subscribe before `start()`.

        `config` takes any `MessageBusConfig` field (e.g. `max_deliveries=2`); the engine, the
        clock and the transport are the bus's.
        """
        return client_class(self._bus(engine=client_class.ENGINE, **config))

    def untyped(self, engine: str, **config: Any) -> UniversalMessageBusClient:
        """The untyped client of `engine` on this bus (any routed type, checked at run time)."""
        return self._bus(engine=engine, **config)

    def observer(self, name: str, **config: Any) -> UniversalMessageBusClient:
        """A read-only observer `name` on this bus (group `observer:<name>`)."""
        return self._bus(observer=name, **config)

    async def start(self) -> None:
        """Start every client made so far: groups created, nothing consumed until `settle()`."""
        for bus in self._buses:
            await bus.start(consume=False)
        self._started = True

    async def settle(self, max_rounds: int = 100_000) -> int:
        """Write what every client has buffered, then let every client consume, until a round
        reads nothing and nothing is left to write; the number of entries processed.

        Handlers that publish are followed through: their messages are written and consumed in
        the next round. RuntimeError after `max_rounds` rounds (clients publishing forever).
        """
        if not self._started:
            await self.start()
        total = 0
        for _ in range(max_rounds):
            for bus in self._buses:
                if bus.publisher.unsent:
                    await bus.flush()
            processed = 0
            for bus in self._buses:
                if bus.consumer.lanes:
                    processed += await bus.poll()
            total += processed
            if not processed and not any(bus.publisher.unsent for bus in self._buses):
                return total
        raise RuntimeError(f"the bus did not settle in {max_rounds} rounds")

    async def advance(self, ns: int) -> None:
        """Move the test clock forward by `ns` nanoseconds."""
        self.clock.advance(ns)

    async def dead_letters(self, message_class: type[Message]) -> list[DeadLetter]:
        """The dead letters of `message_class`'s stream, oldest first."""
        if not self._buses:
            return []
        return await self._buses[0].dead_letters(message_class)

    async def close(self) -> None:
        """Close every client (what is buffered is written first)."""
        for bus in self._buses:
            await bus.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
