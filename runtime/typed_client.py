"""The base of the generated per-engine clients (`nautilus.clients.<engine>`).

A generated client is a thin, typed face over `UniversalMessageBusClient`: one `publish_<type>`
method per message type its engine produces and one `on_<type>` per type it consumes, nothing else,
so a wrong publish or subscription is a type error before it is a runtime `RoutingError`. This base
holds what every client shares: the engine check, the lifecycle, and adapting two-argument handlers
`(message, delivery)` to the runtime's delivery handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from google.protobuf.message import Message

from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.errors import RoutingError

__all__ = ["MessageHandler", "TypedClient"]

M = TypeVar("M", bound=Message)

#: A typed handler: receives the decoded message and its delivery context (id, producer, times,
#: delivery count). A coroutine function or a plain function.
MessageHandler = Callable[[M, Delivery[M]], Awaitable[None] | None]


class TypedClient:
    """Lifecycle and checks shared by every generated engine client."""

    #: The engine this client acts for; set by each generated subclass.
    ENGINE: ClassVar[str]
    #: The message types the engine publishes (its routes), set by each generated subclass and
    #: handed to the bus client it creates, which registers their schemas on start.
    PUBLISHES: ClassVar[tuple[type[Message], ...]] = ()

    def __init__(self, bus: UniversalMessageBusClient) -> None:
        if bus.config.engine != self.ENGINE:
            raise RoutingError(
                type(self).__name__,
                bus.config.engine,
                "wrap a bus client of",
                f"{type(self).__name__} is the {self.ENGINE!r} engine's client",
            )
        self.bus = bus

    @classmethod
    def create(cls, **config: Any) -> Self:
        """A client with a bus client of its own, configured by `MessageBusConfig` fields."""
        bus_config = MessageBusConfig(engine=cls.ENGINE, **config)
        return cls(UniversalMessageBusClient(bus_config, publishes=cls.PUBLISHES))

    @property
    def config(self) -> MessageBusConfig:
        return self.bus.config

    async def start(self, *, consume: bool = True) -> None:
        """Create the consumer groups and start publishing (and, with `consume`, consuming)."""
        await self.bus.start(consume=consume)

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every accepted message has been written."""
        await self.bus.flush(timeout_s)

    async def close(self, timeout_s: float | None = 5.0) -> None:
        """Write what is buffered (up to `timeout_s`) and stop."""
        await self.bus.close(timeout_s)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _subscribe(self, message_class: type[M], handler: MessageHandler[M]) -> None:
        def deliver(delivery: Delivery[M]) -> Awaitable[None] | None:
            return handler(delivery.message, delivery)

        self.bus.subscribe(message_class, deliver)
