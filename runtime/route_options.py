"""The one reader of the routing options declared in the schemas.

`(nautilus.bus.v1.engine)` on each `Engine` enum value says who the parties are and which stream
each owns; `(nautilus.bus.v1.route)` on a message says where it travels. Code generation, the
runtime, the engines and the contract checks all read them here, from a FileDescriptorSet, so the
options have one meaning everywhere. The set may come from protoc, from a buf image, or from the
files of a generated class (`descriptor_set_of_file`); the options are re-parsed with classes of
the set's own pool, so a contract other than the one installed (a baseline, a candidate) reads
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, message_factory
from google.protobuf.descriptor import FileDescriptor

from nautilus.runtime.errors import MessageBusError
from nautilus.runtime.schema.descriptor_sets import DescriptorSetError, build_pool

__all__ = [
    "DELIVERY_BEST_EFFORT",
    "OPTIONS_PACKAGE",
    "EngineOption",
    "RouteOption",
    "RouteOptions",
    "RouteOptionsError",
    "descriptor_set_of_file",
    "read_route_options",
]

OPTIONS_PACKAGE = "nautilus.bus.v1"
_ENGINE_ENUM = f"{OPTIONS_PACKAGE}.Engine"
_PRIORITY_ENUM = f"{OPTIONS_PACKAGE}.MessagePriority"


class RouteOptionsError(MessageBusError):
    """The routing options of a contract are missing or name something that does not exist."""


@dataclass(frozen=True, slots=True)
class EngineOption:
    """A party on the bus, from its `Engine` enum value and `(engine)` option."""

    enum_name: str
    number: int
    name: str
    display_name: str
    port: int
    stream: str
    external: bool


@dataclass(frozen=True, slots=True)
class RouteOption:
    """A message's `(route)` option, engines by name; `priority` and `delivery` are enum numbers
    (0: unset)."""

    stream: str
    producer: str
    consumers: tuple[str, ...]
    priority: int
    delivery: int = 0
    #: Partitions of the stream (runtime/partitions.py); 0 or 1: not partitioned.
    partitions: int = 0
    #: With best-effort delivery, the consumers that still receive the type at least once.
    at_least_once_consumers: tuple[str, ...] = ()

    @property
    def best_effort(self) -> bool:
        """Whether the route declares best-effort delivery (for some of its consumers at least)."""
        return self.delivery == DELIVERY_BEST_EFFORT

    @property
    def best_effort_consumers(self) -> tuple[str, ...]:
        """The consumers that receive the type best effort."""
        if not self.best_effort:
            return ()
        return tuple(c for c in self.consumers if c not in self.at_least_once_consumers)

    @property
    def priority_name(self) -> str:
        """LOW .. CRITICAL, or UNSPECIFIED."""
        return _PRIORITY_NAMES.get(self.priority, str(self.priority))


#: `Delivery.DELIVERY_BEST_EFFORT`: the route's bulk-lane entries are read with NOACK.
DELIVERY_BEST_EFFORT = 2

_PRIORITY_NAMES = {0: "UNSPECIFIED", 1: "LOW", 2: "NORMAL", 3: "HIGH", 4: "URGENT", 5: "CRITICAL"}


@dataclass(frozen=True, slots=True)
class RouteOptions:
    """Every party and every routed message type of one contract."""

    engines: tuple[EngineOption, ...]
    #: Routed message types by full name, sorted.
    routes: dict[str, RouteOption]

    def engine(self, name: str) -> EngineOption:
        for engine in self.engines:
            if engine.name == name:
                return engine
        known = ", ".join(sorted(e.name for e in self.engines))
        raise KeyError(f"unknown engine {name!r}; known engines: {known}")


def descriptor_set_of_file(file: FileDescriptor | Any) -> descriptor_pb2.FileDescriptorSet:
    """The set made of `file` and every file it imports, dependencies first."""
    ordered: list[Any] = []
    seen: set[str] = set()

    def visit(item: Any) -> None:
        if item.name in seen:
            return
        seen.add(item.name)
        for dependency in item.dependencies:
            visit(dependency)
        ordered.append(item)

    visit(file)
    result = descriptor_pb2.FileDescriptorSet()
    for item in ordered:
        result.file.add().ParseFromString(item.serialized_pb)
    return result


def _rich_files(descriptor_set: descriptor_pb2.FileDescriptorSet) -> tuple[Any, Any, list[Any]]:
    """The set's files re-parsed so that the custom options read as extensions."""
    try:
        pool = build_pool(descriptor_set)
    except DescriptorSetError as exc:
        raise RouteOptionsError(str(exc)) from exc
    try:
        route_ext = pool.FindExtensionByName(f"{OPTIONS_PACKAGE}.route")
        engine_ext = pool.FindExtensionByName(f"{OPTIONS_PACKAGE}.engine")
    except KeyError as exc:
        raise RouteOptionsError(
            "the contract does not include nautilus/bus/v1/options.proto (the routing options)"
        ) from exc
    options_file = pool.FindFileContainingSymbol(f"{OPTIONS_PACKAGE}.route").name
    message_factory.GetMessageClassesForFiles([options_file], pool)
    set_class: Any = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("google.protobuf.FileDescriptorSet")
    )
    rich = set_class.FromString(descriptor_set.SerializeToString(deterministic=True))
    return route_ext, engine_ext, list(rich.file)


def _engines(files: list[Any], engine_ext: Any) -> tuple[EngineOption, ...]:
    engines = []
    for file in files:
        if file.package != OPTIONS_PACKAGE:
            continue
        for enum in file.enum_type:
            if f"{file.package}.{enum.name}" != _ENGINE_ENUM:
                continue
            for value in enum.value:
                if not value.options.HasExtension(engine_ext):
                    continue
                spec = value.options.Extensions[engine_ext]
                engines.append(
                    EngineOption(
                        enum_name=value.name,
                        number=value.number,
                        name=spec.name,
                        display_name=spec.display_name,
                        port=spec.port,
                        stream=spec.stream,
                        external=spec.external,
                    )
                )
    return tuple(engines)


def _walk_messages(prefix: str, protos: Any) -> list[tuple[str, Any]]:
    found = []
    for proto in protos:
        full_name = f"{prefix}.{proto.name}"
        found.append((full_name, proto))
        found += _walk_messages(full_name, proto.nested_type)
    return found


def read_route_options(descriptor_set: descriptor_pb2.FileDescriptorSet) -> RouteOptions:
    """Every engine and route declared in `descriptor_set`.

    Raises RouteOptionsError when the set lacks the options file or a route names an engine
    number that is not declared.
    """
    route_ext, engine_ext, files = _rich_files(descriptor_set)
    engines = _engines(files, engine_ext)
    by_number = {e.number: e.name for e in engines}
    routes: dict[str, RouteOption] = {}
    for file in files:
        for full_name, proto in _walk_messages(file.package, file.message_type):
            if not proto.options.HasExtension(route_ext):
                continue
            raw = proto.options.Extensions[route_ext]
            # A contract older than the delivery fields (a baseline) reads as at least once.
            fields = raw.DESCRIPTOR.fields_by_name
            delivery = raw.delivery if "delivery" in fields else 0
            reliable = raw.at_least_once_consumers if "at_least_once_consumers" in fields else ()
            try:
                producer = by_number[raw.producer]
                consumers = tuple(by_number[c] for c in raw.consumers)
                at_least_once = tuple(by_number[c] for c in reliable)
            except KeyError as exc:
                raise RouteOptionsError(
                    f"{full_name}: route names an undeclared engine number {exc}"
                ) from exc
            # A contract older than the `partitions` field (a baseline) reads as one stream.
            has_partitions = "partitions" in fields
            partitions = raw.partitions if has_partitions else 0
            routes[full_name] = RouteOption(
                raw.stream, producer, consumers, raw.priority, delivery, partitions, at_least_once
            )
    _check_partitions(routes)
    return RouteOptions(engines=engines, routes=dict(sorted(routes.items())))


def _check_partitions(routes: dict[str, RouteOption]) -> None:
    """Every route on one stream cuts it the same way (RouteOptionsError naming them)."""
    by_stream: dict[str, dict[int, list[str]]] = {}
    for name, route in sorted(routes.items()):
        cut = route.partitions if route.partitions > 1 else 1
        by_stream.setdefault(route.stream, {}).setdefault(cut, []).append(name)
    for stream, cuts in sorted(by_stream.items()):
        if len(cuts) > 1:
            described = "; ".join(
                f"{count} partition{'s' if count > 1 else ''}: {', '.join(names)}"
                for count, names in sorted(cuts.items())
            )
            raise RouteOptionsError(
                f"the routes on {stream} disagree on its partitions ({described}): a stream is "
                "cut one way, so every route on it declares the same `partitions`"
            )
