"""JSON Schema (draft 2020-12) per message, following the proto3 JSON mapping.

The schemas follow the proto3 JSON mapping as `google.protobuf.json_format` reads it: a field
by its JSON name (lowerCamelCase) or its proto name (given both, the last one wins); integers
as JSON numbers or decimal strings (`MessageToDict` writes 64-bit ones as strings, `Parse` takes
either); enums by name; bytes as base64; floating point as numbers or the strings "NaN",
"Infinity" and "-Infinity". Unknown properties are allowed: the WIRE_JSON compatibility level
calls an added field compatible, which holds only when JSON readers ignore fields they do not
know (`json_format.Parse` with `ignore_unknown_fields=True`). Each file is self-contained:
referenced messages and enums are in `$defs`.
"""

from __future__ import annotations

import json
from typing import Any

from nautilus.codegen.compile import CodegenError
from nautilus.codegen.model import ContractModel, EnumModel, FieldModel, MessageModel

__all__ = [
    "SCHEMA_DIALECT",
    "json_schema_path",
    "message_json_schema",
    "package_json_schema",
    "render_json_schema",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_INT32_BOUNDS = {
    "int32": (-(2**31), 2**31 - 1),
    "sint32": (-(2**31), 2**31 - 1),
    "sfixed32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "fixed32": (0, 2**32 - 1),
}
_INT64 = {"int64", "sint64", "sfixed64"}
_UINT64 = {"uint64", "fixed64"}
_FLOATS = {"double", "float"}
_NON_FINITE = "NonFiniteNumber"
_NON_FINITE_SCHEMA: dict[str, Any] = {
    "title": _NON_FINITE,
    "description": "How the proto3 JSON mapping writes floating-point values that are not finite.",
    "type": "string",
    "enum": ["NaN", "Infinity", "-Infinity"],
}


def _integer(low: int, high: int) -> dict[str, Any]:
    """An integer field: a JSON number in range, or a decimal string (json_format takes both)."""
    pattern = "^[0-9]+$" if low == 0 else "^-?[0-9]+$"
    return {
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": high},
            {"type": "string", "pattern": pattern},
        ]
    }


def _names(field: FieldModel) -> tuple[str, ...]:
    """The names a JSON reader accepts for a field: its JSON name, then its proto name."""
    return (field.json_name,) if field.name == field.json_name else (field.json_name, field.name)


def json_schema_path(full_name: str) -> str:
    """Where the schema of message `full_name` lives, relative to `generated/`."""
    return f"nautilus/contract/jsonschema/{full_name}.schema.json"


def _describe(schema: dict[str, Any], comment: str) -> dict[str, Any]:
    if comment:
        schema["description"] = comment
    return schema


class _SchemaBuilder:
    def __init__(self, contract: ContractModel, root: MessageModel | None) -> None:
        self.contract = contract
        self.root = root
        self.defs: dict[str, dict[str, Any]] = {}
        self.def_names: dict[str, str] = {}

    def def_name(self, full_name: str) -> str:
        """Short names where unambiguous keep generated model class names readable."""
        if full_name not in self.def_names:
            short = full_name.rsplit(".", 1)[1]
            taken = set(self.def_names.values()) | {_NON_FINITE}
            if self.root is not None:
                taken.add(self.root.name)
            self.def_names[full_name] = short if short not in taken else full_name.replace(".", "_")
        return self.def_names[full_name]

    def ref(self, full_name: str) -> dict[str, Any]:
        if self.root is not None and full_name == self.root.full_name:
            return {"$ref": "#"}
        name = self.def_name(full_name)
        if name not in self.defs:
            self.defs[name] = {}  # placeholder: breaks recursion for self-referencing types
            item = self.contract.type_of(full_name)
            if isinstance(item, EnumModel):
                self.defs[name] = self.enum_schema(item)
            else:
                self.defs[name] = self.message_schema(item)
        return {"$ref": f"#/$defs/{name}"}

    def enum_schema(self, enum: EnumModel) -> dict[str, Any]:
        return _describe(
            {"title": enum.name, "type": "string", "enum": [v.name for v in enum.values]},
            enum.comment,
        )

    def scalar(self, field: FieldModel) -> dict[str, Any]:
        kind = field.proto_type
        if kind in ("message", "group"):
            if field.type_ref.startswith("google.protobuf."):
                raise CodegenError(
                    f"well-known type {field.type_ref} in field {field.name} has no JSON Schema "
                    "mapping in this generator yet"
                )
            return self.ref(field.type_ref)
        if kind == "enum":
            return self.ref(field.type_ref)
        if kind in _INT32_BOUNDS:
            low, high = _INT32_BOUNDS[kind]
            return _integer(low, high)
        if kind in _INT64:
            return _integer(-(2**63), 2**63 - 1)
        if kind in _UINT64:
            return _integer(0, 2**64 - 1)
        if kind in _FLOATS:
            self.defs.setdefault(_NON_FINITE, _NON_FINITE_SCHEMA)
            return {"anyOf": [{"type": "number"}, {"$ref": f"#/$defs/{_NON_FINITE}"}]}
        if kind == "bool":
            return {"type": "boolean"}
        if kind == "string":
            return {"type": "string"}
        if kind == "bytes":
            return {"type": "string", "contentEncoding": "base64"}
        raise CodegenError(f"field {field.name}: unsupported type {kind}")

    def field_schema(self, field: FieldModel) -> dict[str, Any]:
        if field.map_key is not None and field.map_value is not None:
            schema: dict[str, Any] = {
                "type": "object",
                "additionalProperties": self.scalar(field.map_value),
            }
        elif field.repeated:
            schema = {"type": "array", "items": self.scalar(field)}
        else:
            schema = self.scalar(field)
        if "$ref" in schema and field.comment:
            schema = {"allOf": [schema]}
        return _describe(schema, field.comment)

    def message_schema(self, message: MessageModel) -> dict[str, Any]:
        schema: dict[str, Any] = {"title": message.name, "type": "object"}
        _describe(schema, message.comment)
        properties: dict[str, Any] = {}
        for field in message.fields:
            for name in _names(field):
                properties[name] = self.field_schema(field)
        schema["properties"] = properties
        oneofs: dict[str, list[str]] = {}
        for field in message.fields:
            if field.oneof:
                oneofs.setdefault(field.oneof, []).extend(_names(field))
        # Two members of one oneof are refused (json_format: "oneof ... is already set").
        exclusive = [
            {"required": [a, b]}
            for members in oneofs.values()
            for i, a in enumerate(members)
            for b in members[i + 1 :]
        ]
        if exclusive:
            schema["not"] = {"anyOf": exclusive}
        return schema

    def build(self) -> dict[str, Any]:
        assert self.root is not None
        body = self.message_schema(self.root)
        schema: dict[str, Any] = {
            "$schema": SCHEMA_DIALECT,
            "$id": f"urn:nautilus:schema:{self.root.full_name}",
            **body,
        }
        if self.root.route is not None:
            schema["x-nautilus-fingerprint"] = self.root.fingerprint
            schema["x-nautilus-stream"] = self.root.route.stream
        if self.defs:
            schema["$defs"] = dict(sorted(self.defs.items()))
        return schema


def message_json_schema(contract: ContractModel, message: MessageModel) -> dict[str, Any]:
    """The self-contained JSON Schema of one message type."""
    return _SchemaBuilder(contract, message).build()


def package_json_schema(contract: ContractModel, package: str) -> dict[str, Any]:
    """One schema whose `$defs` hold every message of a proto package and the types they use."""
    builder = _SchemaBuilder(contract, None)
    members = [m for m in contract.messages if m.package == package and not m.map_entry]
    if any(m.is_bus_message for m in members):
        members = [m for m in members if m.is_bus_message]
    refs = [builder.ref(m.full_name) for m in members]
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:nautilus:schema:{package}",
        "description": f"Any message of {package}.",
        "anyOf": refs,
        "$defs": dict(sorted(builder.defs.items())),
    }


def render_json_schema(contract: ContractModel) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for message in contract.messages:
        if message.map_entry:
            continue
        schema = message_json_schema(contract, message)
        text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        out[json_schema_path(message.full_name)] = text.encode()
    return out
