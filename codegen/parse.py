"""Reading a compiled descriptor set into the contract model, checking the routing rules.

The routing options are read by `nautilus.runtime.route_options`, the one reader the runtime and
the engines use too; this module adds what only code generation needs (comments, field shapes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor

from nautilus.codegen.compile import CodegenError
from nautilus.codegen.model import (
    ContractModel,
    EngineModel,
    EnumModel,
    EnumValueModel,
    FieldModel,
    MessageModel,
    RouteModel,
)
from nautilus.runtime.route_options import OPTIONS_PACKAGE, RouteOptionsError, read_route_options
from nautilus.runtime.schema.fingerprint import fingerprint

__all__ = ["parse_contract"]


# Source-info paths: field numbers of FileDescriptorProto, DescriptorProto, EnumDescriptorProto.
_FILE_MESSAGES, _FILE_ENUMS = 4, 5
_MSG_FIELDS, _MSG_NESTED, _MSG_ENUMS = 2, 3, 4
_ENUM_VALUES = 2

_TYPE_NAMES = {
    getattr(descriptor_pb2.FieldDescriptorProto, name): name.removeprefix("TYPE_").lower()
    for name in descriptor_pb2.FieldDescriptorProto.Type.keys()  # noqa: SIM118 (an enum wrapper, not a dict)
}


def _comments(file: Any) -> dict[tuple[int, ...], str]:
    out: dict[tuple[int, ...], str] = {}
    for location in file.source_code_info.location:
        text = location.leading_comments or location.trailing_comments
        if text:
            lines = [line.removeprefix(" ").rstrip() for line in text.strip("\n").split("\n")]
            out[tuple(location.path)] = "\n".join(lines).strip()
    return out


class _Parser:
    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
        self.raw = descriptor_set.SerializeToString(deterministic=True)
        self.pool = descriptor_pool.DescriptorPool()
        for file in descriptor_set.file:
            self.pool.Add(file)
        self.files = list(descriptor_set.file)
        try:
            self.options = read_route_options(descriptor_set)
        except RouteOptionsError as exc:
            raise CodegenError(str(exc)) from exc

    def contract_files(self) -> list[Any]:
        return [f for f in self.files if not f.name.startswith("google/")]

    def engines(self) -> tuple[EngineModel, ...]:
        file = next(f for f in self.files if f.package == OPTIONS_PACKAGE)
        comments = _comments(file)
        index = next(i for i, e in enumerate(file.enum_type) if e.name == "Engine")
        declared = {e.enum_name: e for e in self.options.engines}
        engines = []
        for vi, value in enumerate(file.enum_type[index].value):
            if value.number == 0:
                continue
            spec = declared.get(value.name)
            if spec is None:
                raise CodegenError(f"engine {value.name} has no (nautilus.bus.v1.engine) spec")
            engines.append(
                EngineModel(
                    enum_name=spec.enum_name,
                    number=spec.number,
                    name=spec.name,
                    display_name=spec.display_name,
                    port=spec.port,
                    stream=spec.stream,
                    external=spec.external,
                    comment=comments.get((_FILE_ENUMS, index, _ENUM_VALUES, vi), ""),
                )
            )
        _check_engines(engines)
        return tuple(engines)

    def route(self, full_name: str) -> RouteModel | None:
        route = self.options.routes.get(full_name)
        if route is None:
            return None
        return RouteModel(
            stream=route.stream,
            producer=route.producer,
            consumers=route.consumers,
            priority=route.priority_name,
            delivery="BEST_EFFORT" if route.best_effort else "AT_LEAST_ONCE",
            partitions=route.partitions if route.partitions > 1 else 0,
            at_least_once_consumers=route.at_least_once_consumers,
        )

    def field(self, proto: Any, comment: str, map_entries: dict[str, Any]) -> FieldModel:
        type_ref = proto.type_name.lstrip(".")
        map_key = map_value = None
        if type_ref in map_entries:
            entry = map_entries[type_ref]
            map_key = self.field(entry.field[0], "", {})
            map_value = self.field(entry.field[1], "", {})
        descriptor = descriptor_pb2.FieldDescriptorProto
        return FieldModel(
            name=proto.name,
            json_name=proto.json_name,
            number=proto.number,
            proto_type=_TYPE_NAMES[proto.type],
            type_ref=type_ref,
            repeated=proto.label == descriptor.LABEL_REPEATED and map_key is None,
            map_key=map_key,
            map_value=map_value,
            oneof="",
            comment=comment,
        )

    def walk(
        self, file: Any, protos: Iterable[Any], prefix: str, path: tuple[int, ...]
    ) -> tuple[list[MessageModel], list[EnumModel]]:
        comments = _comments(file)
        messages: list[MessageModel] = []
        enums: list[EnumModel] = []
        module = file.name.removesuffix(".proto").replace("/", ".") + "_pb2"
        for index, proto in enumerate(protos):
            full_name = f"{prefix}.{proto.name}"
            here = (*path, index)
            map_entries = {
                f"{full_name}.{n.name}": n for n in proto.nested_type if n.options.map_entry
            }
            real_oneofs = [o.name for o in proto.oneof_decl]
            fields = []
            for fi, field_proto in enumerate(proto.field):
                model = self.field(
                    field_proto, comments.get((*here, _MSG_FIELDS, fi), ""), map_entries
                )
                if field_proto.HasField("oneof_index") and not field_proto.proto3_optional:
                    model = _with_oneof(model, real_oneofs[field_proto.oneof_index])
                fields.append(model)
            descriptor: Descriptor = self.pool.FindMessageTypeByName(full_name)
            messages.append(
                MessageModel(
                    full_name=full_name,
                    name=proto.name,
                    package=file.package,
                    proto_file=file.name,
                    python_module=module,
                    comment=comments.get(here, ""),
                    fields=tuple(fields),
                    route=self.route(full_name),
                    fingerprint=fingerprint(descriptor),
                    map_entry=proto.options.map_entry,
                )
            )
            nested_m, nested_e = self.walk(file, proto.nested_type, full_name, (*here, _MSG_NESTED))
            messages += nested_m
            enums += nested_e
            enums += self.enums(file, proto.enum_type, full_name, (*here, _MSG_ENUMS))
        return messages, enums

    def enums(
        self, file: Any, protos: Iterable[Any], prefix: str, path: tuple[int, ...]
    ) -> list[EnumModel]:
        comments = _comments(file)
        return [
            EnumModel(
                full_name=f"{prefix}.{proto.name}",
                name=proto.name,
                package=file.package,
                values=tuple(
                    EnumValueModel(v.name, v.number, comments.get((*path, i, _ENUM_VALUES, vi), ""))
                    for vi, v in enumerate(proto.value)
                ),
                comment=comments.get((*path, i), ""),
            )
            for i, proto in enumerate(protos)
        ]


def _with_oneof(model: FieldModel, oneof: str) -> FieldModel:
    return replace(model, oneof=oneof)


def _check_engines(engines: list[EngineModel]) -> None:
    seen: dict[str, str] = {}
    for engine in engines:
        if engine.external:
            continue
        if not engine.stream:
            raise CodegenError(f"engine {engine.name} has no stream")
        if engine.stream in seen:
            raise CodegenError(
                f"engines {seen[engine.stream]} and {engine.name} share stream {engine.stream}"
            )
        seen[engine.stream] = engine.name


def _route_violations(contract: ContractModel) -> list[str]:
    """Every breach of the routing rules the rest of the system relies on."""
    engines = {e.name: e for e in contract.engines}
    found: list[str] = []
    for message in contract.bus_messages:
        route = message.route
        assert route is not None
        producer = engines[route.producer]
        where = f"{message.full_name}: route"
        if producer.external:
            found.append(f"{where}: external party {producer.name} cannot publish")
        if route.stream != producer.stream:
            found.append(
                f"{where}: stream {route.stream!r} is not {producer.name}'s stream "
                f"{producer.stream!r} (a stream has exactly one producer)"
            )
        if not route.consumers:
            found.append(f"{where}: no consumers")
        if len(set(route.consumers)) != len(route.consumers):
            found.append(f"{where}: a consumer is listed twice")
        if route.producer in route.consumers:
            found.append(f"{where}: {route.producer} consumes its own message")
        if route.priority == "UNSPECIFIED":
            found.append(f"{where}: no default priority")
        if route.delivery == "BEST_EFFORT" and route.priority in ("URGENT", "CRITICAL"):
            found.append(
                f"{where}: best-effort delivery with default priority {route.priority} "
                "(the priority lane is always read at least once)"
            )
        for engine in route.at_least_once_consumers:
            if engine not in route.consumers:
                found.append(f"{where}: at-least-once consumer {engine} is not a consumer")
        if route.at_least_once_consumers and route.delivery != "BEST_EFFORT":
            found.append(f"{where}: at-least-once consumers without best-effort delivery")
    return found


def _check_routes(contract: ContractModel) -> None:
    """Stop code generation on routing violations, reporting all of them at once."""
    found = _route_violations(contract)
    if len(found) == 1:
        raise CodegenError(found[0])
    if found:
        raise CodegenError(f"{len(found)} routing violations:\n  " + "\n  ".join(found))


def parse_contract(descriptor_set: descriptor_pb2.FileDescriptorSet) -> ContractModel:
    """Build the contract model from a descriptor set made by `compile_descriptor_set`."""
    parser = _Parser(descriptor_set)
    engines = parser.engines()
    messages: list[MessageModel] = []
    enums: list[EnumModel] = []
    for file in parser.contract_files():
        prefix = file.package
        file_messages, nested_enums = parser.walk(
            file, file.message_type, prefix, (_FILE_MESSAGES,)
        )
        messages += file_messages
        enums += parser.enums(file, file.enum_type, prefix, (_FILE_ENUMS,))
        enums += nested_enums
    contract = ContractModel(
        engines=engines,
        messages=tuple(sorted(messages, key=lambda m: m.full_name)),
        enums=tuple(sorted(enums, key=lambda e: e.full_name)),
        descriptor_set=parser.raw,
    )
    _check_routes(contract)
    return contract
