"""Routes read from the schemas: which engine may publish or consume which message type.

The `(nautilus.bus.v1.route)` option of each message and the `(nautilus.bus.v1.engine)` option of
each `Engine` value are the single source of truth; this module reads them at run time through
`route_options` (the reader code generation uses too), once per schema file, and refuses anything
they do not allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import cast

from google.protobuf.descriptor import Descriptor, FileDescriptor
from google.protobuf.message import Message

from nautilus.bus.v1 import options_pb2
from nautilus.runtime.errors import RoutingError
from nautilus.runtime.lanes import dead_letter_stream, priority_lane
from nautilus.runtime.partitions import partition_streams
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.route_options import RouteOption, descriptor_set_of_file, read_route_options
from nautilus.runtime.schema.fingerprint import fingerprint

__all__ = [
    "EngineInfo",
    "MessageSpec",
    "Route",
    "engine_info",
    "engines",
    "message_spec",
    "require_consumer",
    "require_producer",
]


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """A party on the bus, from its `Engine` enum value."""

    name: str
    display_name: str
    stream: str
    external: bool
    #: The engine's health and metrics port.
    port: int


@dataclass(frozen=True, slots=True)
class Route:
    """Where a message type travels: its stream, its producer, its consumers, its priority, and
    the consumers that receive it best effort from the bulk lane (`delivery` option)."""

    stream: str
    producer: str
    consumers: frozenset[str]
    priority: MessagePriority
    best_effort_consumers: frozenset[str] = frozenset()
    #: Partitions the stream is cut into by key (runtime/partitions.py); 0: not partitioned.
    partitions: int = 0

    @property
    def streams(self) -> tuple[str, ...]:
        """The streams that hold the route's entries: its partitions, or its stream."""
        return partition_streams(self.stream, self.partitions)


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """Everything the hot path needs about a message type, computed once and cached."""

    message_class: type[Message]
    full_name: str
    fingerprint: str
    route: Route
    #: Pre-encoded wire values, so publishing encodes nothing per message but the payload.
    type_bytes: bytes
    fingerprint_bytes: bytes

    @property
    def priority_lane(self) -> str:
        return priority_lane(self.route.stream)

    @property
    def dead_letter_stream(self) -> str:
        return dead_letter_stream(self.route.stream)


@cache
def _engines_by_number() -> dict[int, EngineInfo]:
    options = read_route_options(descriptor_set_of_file(options_pb2.DESCRIPTOR))
    return {
        e.number: EngineInfo(
            name=e.name,
            display_name=e.display_name,
            stream=e.stream,
            external=e.external,
            port=e.port,
        )
        for e in options.engines
    }


@cache
def _routes_of_file(file: FileDescriptor) -> dict[str, RouteOption]:
    return read_route_options(descriptor_set_of_file(file)).routes


def engines() -> tuple[EngineInfo, ...]:
    """Every party declared in the schemas, in enum order."""
    return tuple(_engines_by_number().values())


def engine_info(name: str) -> EngineInfo:
    """The engine called `name` (e.g. "vpin"); KeyError names the known engines."""
    for info in _engines_by_number().values():
        if info.name == name:
            return info
    known = sorted(info.name for info in _engines_by_number().values())
    raise KeyError(f"unknown engine {name!r}; known engines: {known}")


def _route_of(descriptor: Descriptor) -> Route:
    raw = _routes_of_file(descriptor.file).get(descriptor.full_name)
    if raw is None:
        raise RoutingError(descriptor.full_name, "-", "use", "it has no (nautilus.bus.v1.route)")
    return Route(
        stream=raw.stream,
        producer=raw.producer,
        consumers=frozenset(raw.consumers),
        priority=MessagePriority(raw.priority or MessagePriority.NORMAL),
        best_effort_consumers=frozenset(raw.best_effort_consumers),
        partitions=raw.partitions if raw.partitions > 1 else 0,
    )


_specs: dict[type[Message], MessageSpec] = {}


def message_spec(message_class: type[Message]) -> MessageSpec:
    """The cached spec of a generated bus message class; RoutingError if it is not a bus message."""
    spec = _specs.get(message_class)
    if spec is None:
        spec = _specs[message_class] = _build_spec(message_class)
    return spec


def _build_spec(message_class: type[Message]) -> MessageSpec:
    descriptor = cast(Descriptor, message_class.DESCRIPTOR)
    print_ = fingerprint(descriptor)
    return MessageSpec(
        message_class=message_class,
        full_name=descriptor.full_name,
        fingerprint=print_,
        route=_route_of(descriptor),
        type_bytes=descriptor.full_name.encode(),
        fingerprint_bytes=print_.encode(),
    )


def require_producer(spec: MessageSpec, engine: str) -> None:
    """Raise RoutingError unless `engine` is the route's producer of `spec`'s type."""
    if spec.route.producer != engine:
        raise RoutingError(
            spec.full_name, engine, "publish", f"its route's producer is {spec.route.producer!r}"
        )


def require_consumer(spec: MessageSpec, engine: str) -> None:
    """Raise RoutingError unless `engine` is among the route's consumers of `spec`'s type."""
    if engine not in spec.route.consumers:
        raise RoutingError(
            spec.full_name,
            engine,
            "subscribe to",
            f"its route's consumers are {sorted(spec.route.consumers)}",
        )
