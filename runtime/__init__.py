"""The Nautilus bus runtime: typed protobuf messages carried over Redis Streams.

Layers, bottom up: transports (`transport.redis`, `transport.memory`) store entries; the bus
(`publisher`, `consumer`, `trim`, `dead_letter`) implements the delivery contract over any
transport; `UniversalMessageBusClient` enforces routing for one engine and is what the generated
typed clients wrap. `wire` and `lanes` define what other-language clients must match.
"""

from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.clock import Clock, LiveClock, TestClock
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.dead_letter import DeadLetter
from nautilus.runtime.delivery import Delivery, Handler
from nautilus.runtime.errors import (
    BackpressureError,
    ClientStateError,
    DeadLetterReason,
    MessageBusError,
    PublishRejectedError,
    RoutingError,
    TransportError,
    UndeliverableEntryError,
)
from nautilus.runtime.lanes import dead_letter_stream, priority_lane
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.resolver import LocalTypeResolver, TypeResolver
from nautilus.runtime.server import EmbeddedServer
from nautilus.runtime.transport import InMemoryTransport, RedisTransport, Transport

__all__ = [
    "BackpressureError",
    "ClientStateError",
    "Clock",
    "DeadLetter",
    "DeadLetterReason",
    "Delivery",
    "EmbeddedServer",
    "Handler",
    "InMemoryTransport",
    "LiveClock",
    "LocalTypeResolver",
    "MessageBusConfig",
    "MessageBusError",
    "MessagePriority",
    "PublishRejectedError",
    "RedisTransport",
    "RoutingError",
    "TestClock",
    "Transport",
    "TransportError",
    "TypeResolver",
    "UndeliverableEntryError",
    "UniversalMessageBusClient",
    "dead_letter_stream",
    "priority_lane",
]
