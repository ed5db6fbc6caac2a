"""Which changes of a field's declared type keep data readable, per level.

The WIRE table is protobuf's published list ("Updating A Message Type"): the varint integers
int32/uint32/int64/uint64/bool are interchangeable (values are truncated or cast like C++ does),
as are sint32/sint64 (zigzag), fixed32/sfixed32, fixed64/sfixed64, string/bytes (the bytes must
be valid UTF-8: `rules` reports a bytes writer with a string reader, the one direction this
symmetric table cannot see). Everything else changes the wire type or the encoding and is a
FIELD_TYPE_CHANGED. protobuf also lists enum <-> int32/uint32/int64/uint64; like buf's
FIELD_WIRE_COMPATIBLE_TYPE this table does not: an enum field's values become bare numbers (or
numbers become values no enum declares, which closed enums drop), and every generated API changes.

Message <-> bytes shares the wire type but only works when the bytes hold that message encoded,
which no schema can promise: FIELD_MESSAGE_BYTES_CHANGED.

At WIRE_JSON a change must also keep the proto3 JSON form. Only pairs with the same JSON
representation and value kind pass (the pairs buf's WIRE_JSON allows): int32/uint32 and
fixed32/sfixed32 (JSON numbers), int64/uint64 and fixed64/sfixed64 (JSON strings). 32 <-> 64 bit
moves a number to a string, bool is `true`, an enum is its value name, bytes are base64: those are
wire-compatible but reported as FIELD_JSON_TYPE_CHANGED.

Every rule here is symmetric: the table does not care which side is the reader.
"""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor

from nautilus.runtime.schema.modes import CompatLevel
from nautilus.runtime.schema.violations import Rule

__all__ = ["TYPE_NAMES", "type_change_rule"]

_F = FieldDescriptor

#: protobuf's spelling of each field type (`int64`, `message`, ...), for reports.
TYPE_NAMES: dict[int, str] = {
    _F.TYPE_DOUBLE: "double",
    _F.TYPE_FLOAT: "float",
    _F.TYPE_INT64: "int64",
    _F.TYPE_UINT64: "uint64",
    _F.TYPE_INT32: "int32",
    _F.TYPE_FIXED64: "fixed64",
    _F.TYPE_FIXED32: "fixed32",
    _F.TYPE_BOOL: "bool",
    _F.TYPE_STRING: "string",
    _F.TYPE_GROUP: "group",
    _F.TYPE_MESSAGE: "message",
    _F.TYPE_BYTES: "bytes",
    _F.TYPE_UINT32: "uint32",
    _F.TYPE_ENUM: "enum",
    _F.TYPE_SFIXED32: "sfixed32",
    _F.TYPE_SFIXED64: "sfixed64",
    _F.TYPE_SINT32: "sint32",
    _F.TYPE_SINT64: "sint64",
}

_VARINT_INTEGERS = frozenset({_F.TYPE_INT32, _F.TYPE_UINT32, _F.TYPE_INT64, _F.TYPE_UINT64})

_WIRE_COMPATIBLE: tuple[frozenset[int], ...] = (
    _VARINT_INTEGERS | {_F.TYPE_BOOL},
    frozenset({_F.TYPE_SINT32, _F.TYPE_SINT64}),
    frozenset({_F.TYPE_FIXED32, _F.TYPE_SFIXED32}),
    frozenset({_F.TYPE_FIXED64, _F.TYPE_SFIXED64}),
    frozenset({_F.TYPE_STRING, _F.TYPE_BYTES}),
)

_JSON_COMPATIBLE: tuple[frozenset[int], ...] = (
    frozenset({_F.TYPE_INT32, _F.TYPE_UINT32}),
    frozenset({_F.TYPE_INT64, _F.TYPE_UINT64}),
    frozenset({_F.TYPE_FIXED32, _F.TYPE_SFIXED32}),
    frozenset({_F.TYPE_FIXED64, _F.TYPE_SFIXED64}),
)

_MESSAGE_AND_BYTES = frozenset({_F.TYPE_MESSAGE, _F.TYPE_BYTES})


def _together(a: int, b: int, groups: tuple[frozenset[int], ...]) -> bool:
    return any(a in group and b in group for group in groups)


def type_change_rule(old: int, new: int, level: CompatLevel) -> Rule | None:
    """The rule a change of declared type from `old` to `new` breaks at `level`, or None.

    Types are `FieldDescriptor.TYPE_*` values. Two message or two enum types compare equal here;
    whether their contents are compatible is the structural check's job.
    """
    if old == new:
        return None
    if {old, new} == _MESSAGE_AND_BYTES:
        return Rule.FIELD_MESSAGE_BYTES_CHANGED
    if not _together(old, new, _WIRE_COMPATIBLE):
        return Rule.FIELD_TYPE_CHANGED
    if level is CompatLevel.WIRE_JSON and not _together(old, new, _JSON_COMPATIBLE):
        return Rule.FIELD_JSON_TYPE_CHANGED
    return None
