"""The plain model of the contract that every renderer works from.

Renderers never look at raw descriptors: they read these frozen dataclasses, which hold exactly
what the outputs need (names, comments, routes, fingerprints, field shapes) in a stable order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nautilus.runtime.partitions import partition_streams

__all__ = [
    "ContractModel",
    "EngineModel",
    "EnumModel",
    "EnumValueModel",
    "FieldModel",
    "MessageModel",
    "RouteModel",
]


@dataclass(frozen=True)
class EngineModel:
    """A party on the bus: one of the twelve engines, or an external consumer."""

    enum_name: str
    number: int
    name: str
    display_name: str
    port: int
    stream: str
    external: bool
    comment: str


@dataclass(frozen=True)
class RouteModel:
    """Where a bus message travels: its stream, producer, consumers, default priority and
    delivery (`AT_LEAST_ONCE`, or `BEST_EFFORT`: read from the bulk lane with NOACK by the
    consumers not in `at_least_once_consumers`)."""

    stream: str
    producer: str
    consumers: tuple[str, ...]
    priority: str
    delivery: str = "AT_LEAST_ONCE"
    #: Partitions of the stream by key (runtime/partitions.py); 0: not partitioned.
    partitions: int = 0
    at_least_once_consumers: tuple[str, ...] = ()

    @property
    def streams(self) -> tuple[str, ...]:
        """The streams holding the route's entries: its partitions, or its stream."""
        return partition_streams(self.stream, self.partitions)

    def best_effort_for(self, engine: str) -> bool:
        """Whether `engine` receives the type best effort."""
        return self.delivery == "BEST_EFFORT" and engine not in self.at_least_once_consumers


@dataclass(frozen=True)
class FieldModel:
    """One field of a message: its proto type and, for messages and enums, the type it refers to."""

    name: str
    json_name: str
    number: int
    proto_type: str
    type_ref: str
    repeated: bool
    map_key: FieldModel | None
    map_value: FieldModel | None
    oneof: str
    comment: str


@dataclass(frozen=True)
class EnumValueModel:
    """One value of an enum."""

    name: str
    number: int
    comment: str


@dataclass(frozen=True)
class EnumModel:
    """An enum type of the contract."""

    full_name: str
    name: str
    package: str
    values: tuple[EnumValueModel, ...]
    comment: str


@dataclass(frozen=True)
class MessageModel:
    """A message type; bus messages have a route, building blocks do not."""

    full_name: str
    name: str
    package: str
    proto_file: str
    python_module: str
    comment: str
    fields: tuple[FieldModel, ...]
    route: RouteModel | None
    fingerprint: str
    map_entry: bool = False

    @property
    def is_bus_message(self) -> bool:
        return self.route is not None


@dataclass(frozen=True)
class ContractModel:
    """The whole contract: parties, messages and enums, plus the compiled descriptor set."""

    engines: tuple[EngineModel, ...]
    messages: tuple[MessageModel, ...]
    enums: tuple[EnumModel, ...]
    descriptor_set: bytes = field(repr=False)

    @property
    def bus_messages(self) -> tuple[MessageModel, ...]:
        return tuple(m for m in self.messages if m.route is not None)

    @property
    def streams(self) -> dict[str, tuple[MessageModel, ...]]:
        """Bus messages grouped by stream, streams in the order of their producing engine."""
        grouped: dict[str, list[MessageModel]] = {}
        for engine in self.engines:
            if engine.stream:
                grouped.setdefault(engine.stream, [])
        for message in self.bus_messages:
            assert message.route is not None
            grouped.setdefault(message.route.stream, []).append(message)
        return {stream: tuple(msgs) for stream, msgs in grouped.items()}

    def engine(self, name: str) -> EngineModel:
        for engine in self.engines:
            if engine.name == name:
                return engine
        raise KeyError(name)

    def message(self, full_name: str) -> MessageModel:
        for message in self.messages:
            if message.full_name == full_name:
                return message
        raise KeyError(full_name)

    def type_of(self, full_name: str) -> MessageModel | EnumModel:
        items: tuple[MessageModel | EnumModel, ...] = (*self.messages, *self.enums)
        for item in items:
            if item.full_name == full_name:
                return item
        raise KeyError(full_name)
