"""Reading a compiled descriptor set into the contract model, checking the routing rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
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
from nautilus.runtime.schema.fingerprint import fingerprint

__all__ = ["parse_contract"]

_OPTIONS_PACKAGE = "nautilus.bus.v1"
_ENGINE_ENUM = f"{_OPTIONS_PACKAGE}.Engine"
_PRIORITY_ENUM = f"{_OPTIONS_PACKAGE}.MessagePriority"

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
        classes = message_factory.GetMessageClassesForFiles(
            [f.name for f in descriptor_set.file], self.pool
        )
        # Re-read the set with classes from this pool, so the custom options parse as extensions.
        rich_set: Any = classes["google.protobuf.FileDescriptorSet"].FromString(self.raw)
        self.files = rich_set.file
        try:
            self.route_ext = self.pool.FindExtensionByName(f"{_OPTIONS_PACKAGE}.route")
            self.engine_ext = self.pool.FindExtensionByName(f"{_OPTIONS_PACKAGE}.engine")
        except KeyError as exc:
            raise CodegenError(
                "the schemas do not include nautilus/bus/v1/options.proto (the routing options)"
            ) from exc
        self.engine_names: dict[int, str] = {}
        self.priority_names = {
            v.number: v.name.removeprefix("MESSAGE_PRIORITY_")
            for v in self.pool.FindEnumTypeByName(_PRIORITY_ENUM).values
        }

    def contract_files(self) -> list[Any]:
        return [f for f in self.files if not f.name.startswith("google/")]

    def engines(self) -> tuple[EngineModel, ...]:
        file = next(f for f in self.files if f.package == _OPTIONS_PACKAGE)
        comments = _comments(file)
        index = next(i for i, e in enumerate(file.enum_type) if e.name == "Engine")
        engines = []
        for vi, value in enumerate(file.enum_type[index].value):
            if value.number == 0:
                continue
            if not value.options.HasExtension(self.engine_ext):
                raise CodegenError(f"engine {value.name} has no (nautilus.bus.v1.engine) spec")
            spec = value.options.Extensions[self.engine_ext]
            engines.append(
                EngineModel(
                    enum_name=value.name,
                    number=value.number,
                    name=spec.name,
                    display_name=spec.display_name,
                    port=spec.port,
                    stream=spec.stream,
                    external=spec.external,
                    comment=comments.get((_FILE_ENUMS, index, _ENUM_VALUES, vi), ""),
                )
            )
            self.engine_names[value.number] = spec.name
        _check_engines(engines)
        return tuple(engines)

    def route(self, full_name: str, options: Any) -> RouteModel | None:
        if not options.HasExtension(self.route_ext):
            return None
        route = options.Extensions[self.route_ext]
        try:
            producer = self.engine_names[route.producer]
            consumers = tuple(self.engine_names[c] for c in route.consumers)
        except KeyError as exc:
            raise CodegenError(f"{full_name}: route names an unknown engine {exc}") from exc
        if route.priority == 0:
            raise CodegenError(f"{full_name}: route has no default priority")
        return RouteModel(
            stream=route.stream,
            producer=producer,
            consumers=consumers,
            priority=self.priority_names[route.priority],
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
                    route=self.route(full_name, proto.options),
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


def _check_routes(contract: ContractModel) -> None:
    """The routing rules the rest of the system relies on; violations stop code generation."""
    engines = {e.name: e for e in contract.engines}
    for message in contract.bus_messages:
        route = message.route
        assert route is not None
        producer = engines[route.producer]
        where = f"{message.full_name}: route"
        if producer.external:
            raise CodegenError(f"{where}: external party {producer.name} cannot publish")
        if route.stream != producer.stream:
            raise CodegenError(
                f"{where}: stream {route.stream!r} is not {producer.name}'s stream "
                f"{producer.stream!r} (a stream has exactly one producer)"
            )
        if not route.consumers:
            raise CodegenError(f"{where}: no consumers")
        if len(set(route.consumers)) != len(route.consumers):
            raise CodegenError(f"{where}: a consumer is listed twice")
        if route.producer in route.consumers:
            raise CodegenError(f"{where}: {route.producer} consumes its own message")


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
