"""Schema fingerprints: a short, stable identity for one version of a message type.

A fingerprint is a hash of the canonical form of a message descriptor together with every message
and enum it references, transitively. The canonical form keeps what decides how a payload is read
(full type names, field numbers, declared types, cardinality, presence, packing, oneof
membership, map entries, enum numbers) and the names that the JSON mapping uses (field names, JSON
names, enum value names); docs/schema-registry.md specifies it exactly, with test vectors. It
leaves out comments, options, declaration order and file layout, so reformatting or documenting a
schema keeps its fingerprint, while any change a reader could notice produces a new
one. The same function runs in the code generator and in every process on the bus, so both sides
agree by construction.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, TypeAlias

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

__all__ = ["FINGERPRINT_LENGTH", "MessageDescriptor", "canonical_form", "fingerprint"]

if TYPE_CHECKING:
    from google._upb._message import Descriptor as _UpbDescriptor

    #: A message type's descriptor, from a private pool or a generated class's `DESCRIPTOR`
    #: (typed as a union in protobuf's stubs; at run time both are `Descriptor`).
    MessageDescriptor: TypeAlias = Descriptor | _UpbDescriptor
else:
    MessageDescriptor = Descriptor

#: Hex characters in a fingerprint (64 bits): short enough to ride in every stream entry.
FINGERPRINT_LENGTH = 16


def _field_form(field: FieldDescriptor | Any) -> list[Any]:
    if field.message_type is not None:
        ref = field.message_type.full_name
    elif field.enum_type is not None:
        ref = field.enum_type.full_name
    else:
        ref = ""
    oneof = field.containing_oneof
    return [
        field.number,
        field.name,
        field.json_name,
        field.type,
        "repeated" if field.is_repeated else "singular",
        bool(field.has_presence) and not field.is_repeated,
        bool(field.is_packed) if field.is_repeated else False,
        ref,
        oneof.name if oneof is not None else "",
    ]


def _message_form(message: MessageDescriptor) -> dict[str, Any]:
    return {
        "kind": "message",
        "map_entry": bool(message.GetOptions().map_entry),
        "fields": sorted(_field_form(f) for f in message.fields),
    }


def _enum_form(enum: EnumDescriptor) -> dict[str, Any]:
    return {
        "kind": "enum",
        "closed": bool(enum.is_closed),
        "values": sorted([v.number, v.name] for v in enum.values),
    }


def canonical_form(message: MessageDescriptor) -> dict[str, Any]:
    """The parts of `message` and its referenced types that readers depend on, as plain data."""
    types: dict[str, dict[str, Any]] = {}
    # Descriptors from generated classes and from private pools have different static types.
    pending: list[Any] = [message]
    while pending:
        item = pending.pop()
        if item.full_name in types:
            continue
        if isinstance(item, EnumDescriptor):
            types[item.full_name] = _enum_form(item)
            continue
        types[item.full_name] = _message_form(item)
        for field in item.fields:
            if field.message_type is not None:
                pending.append(field.message_type)
            elif field.enum_type is not None:
                pending.append(field.enum_type)
    return {"root": message.full_name, "types": types}


def fingerprint(message: MessageDescriptor) -> str:
    """The fingerprint of `message`'s current schema: 16 lowercase hex characters."""
    text = json.dumps(canonical_form(message), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_LENGTH]
