"""The rule table: comparing an old and a new version of one message or enum, in one direction.

A `PairComparison` walks two descriptors side by side, matching fields by number (the wire
identity) and enum values by number and by name, and recursing into referenced messages and enums.
It runs for one reading direction: `reader_is_new=True` asks "can readers on the new schema read
data written with the old one" (BACKWARD), `False` the opposite (FORWARD). Most rules give the same
answer either way and produce identical violations, so running both directions and de-duplicating
gives FULL. The asymmetric ones look at who reads:

- cardinality at WIRE: a repeated reader takes singular data as a one-element list, but a singular
  reader keeps only the last element of repeated data (and cannot read packed numbers at all);
- names at WIRE_JSON: a JSON reader accepts a field's proto name and its JSON name, so a rename
  that pins `json_name` to the old name is readable one way only; likewise enum aliases;
- enum values: an open enum keeps unknown numbers, a closed (proto2) one does not.

- string <-> bytes at WIRE: a bytes reader takes any string, but a string reader fails on bytes
  that are not valid UTF-8, so the direction whose writer is bytes breaks.

History rules (removing without reserving, reusing what was reserved) judge the edit from old to
new in both directions alike. Oneof membership is symmetric: any move into, out of or between
oneofs breaks (buf's FIELD_SAME_ONEOF).

Fields whose referenced type keeps its full name are compared through that type only when
`follow_same_name` is set; a whole-contract comparison turns it off and compares each named type
once on its own. Map entries are always followed, since their names follow the field's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from nautilus.runtime.schema.modes import CompatLevel
from nautilus.runtime.schema.type_rules import TYPE_NAMES, type_change_rule
from nautilus.runtime.schema.violations import Rule, Violation

__all__ = ["PairComparison", "is_map_entry", "is_well_known"]

_T = TypeVar("_T")
_F = FieldDescriptor
_Type = Descriptor | EnumDescriptor

_WELL_KNOWN_PACKAGE = "google.protobuf."

_TYPE_REASONS = {
    Rule.FIELD_TYPE_CHANGED: "the encodings differ, so readers skip or misread the value",
    Rule.FIELD_JSON_TYPE_CHANGED: "wire-compatible, but the value's proto3 JSON form changes",
    Rule.FIELD_MESSAGE_BYTES_CHANGED: (
        "compatible only while the bytes always hold that message encoded, "
        "which the schema cannot promise"
    ),
}


class _Cardinality(StrEnum):
    SINGULAR = "singular"
    REPEATED = "repeated"
    MAP = "map"


@dataclass(frozen=True, slots=True)
class _Reservations:
    """Reserved numbers (half-open ranges) and names, plus oneofs protoc made up for `optional`."""

    ranges: tuple[range, ...]
    names: frozenset[str]
    synthetic_oneofs: frozenset[str] = frozenset()

    def number(self, number: int) -> bool:
        return any(number in r for r in self.ranges)


def is_map_entry(message: Descriptor) -> bool:
    """Whether `message` is the entry type protoc generates for a `map<K, V>` field."""
    return bool(message.GetOptions().map_entry)


def is_well_known(type_: Descriptor | EnumDescriptor) -> bool:
    """Whether `type_` is a google.protobuf type; several have a special proto3 JSON form."""
    return type_.full_name.startswith(_WELL_KNOWN_PACKAGE)


def _message_reservations(message: Descriptor) -> _Reservations:
    proto = descriptor_pb2.DescriptorProto()
    message.CopyToProto(proto)
    synthetic = frozenset(
        proto.oneof_decl[f.oneof_index].name for f in proto.field if f.proto3_optional
    )
    return _Reservations(
        ranges=tuple(range(r.start, r.end) for r in proto.reserved_range),
        names=frozenset(proto.reserved_name),
        synthetic_oneofs=synthetic,
    )


def _enum_reservations(enum: EnumDescriptor) -> _Reservations:
    proto = descriptor_pb2.EnumDescriptorProto()
    enum.CopyToProto(proto)
    # Enum reserved ranges include their end, unlike message reserved ranges.
    return _Reservations(
        ranges=tuple(range(r.start, r.end + 1) for r in proto.reserved_range),
        names=frozenset(proto.reserved_name),
    )


def _covered(wanted: range, ranges: tuple[range, ...]) -> bool:
    """Whether the union of `ranges` contains every number of `wanted`."""
    position = wanted.start
    for candidate in sorted(ranges, key=lambda r: r.start):
        if candidate.start <= position < candidate.stop:
            position = candidate.stop
        if position >= wanted.stop:
            return True
    return position >= wanted.stop


def _cardinality(field: FieldDescriptor) -> _Cardinality:
    if field.message_type is not None and is_map_entry(field.message_type):
        return _Cardinality.MAP
    return _Cardinality.REPEATED if field.is_repeated else _Cardinality.SINGULAR


def _type_name(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        return field.message_type.full_name
    if field.enum_type is not None:
        return field.enum_type.full_name
    return TYPE_NAMES.get(field.type, str(field.type))


def _describe(field: FieldDescriptor) -> str:
    """A field as declared, e.g. `int64 ask_size_e9 = 5` or `map<string, double> loadings = 3`."""
    entry = field.message_type
    if entry is not None and is_map_entry(entry):
        key, value = entry.fields_by_number[1], entry.fields_by_number[2]
        declared = f"map<{_type_name(key)}, {_type_name(value)}>"
    elif field.is_repeated:
        declared = f"repeated {_type_name(field)}"
    else:
        declared = _type_name(field)
    return f"{declared} {field.name} = {field.number}"


def _primary_names(enum: EnumDescriptor) -> dict[int, str]:
    """Each number's first-declared name: the one a JSON writer emits (later ones are aliases)."""
    names: dict[int, str] = {}
    for value in enum.values:
        names.setdefault(value.number, value.name)
    return names


def _oneof_of(field: FieldDescriptor, reservations: _Reservations) -> str | None:
    oneof = field.containing_oneof
    if oneof is None or oneof.name in reservations.synthetic_oneofs:
        return None
    return oneof.name


class PairComparison:
    """Compares old and new versions of types for one reading direction, collecting violations.

    Violations carry `root_type` as their type and paths built from the old schema's names. A
    comparison visits each (old type, new type) pair once, so recursive types terminate and a type
    referenced from several fields is reported once, at the first path that reached it.
    """

    def __init__(
        self, *, root_type: str, level: CompatLevel, reader_is_new: bool, follow_same_name: bool
    ) -> None:
        self._root_type = root_type
        self._level = level
        self._reader_is_new = reader_is_new
        self._follow_same_name = follow_same_name
        self._seen: set[tuple[str, str]] = set()
        self.violations: list[Violation] = []

    # -- plumbing ---------------------------------------------------------------------------------

    def _report(self, path: str, rule: Rule, old: str, new: str, reason: str) -> None:
        message = f"{old or '(absent)'} -> {new or '(absent)'}: {reason}"
        self.violations.append(Violation(self._root_type, path, old, new, rule, message))

    def _writer_reader(self, old: _T, new: _T) -> tuple[_T, _T]:
        return (old, new) if self._reader_is_new else (new, old)

    def _first_visit(self, old: _Type, new: _Type) -> bool:
        key = (old.full_name, new.full_name)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    @property
    def _json(self) -> bool:
        return self._level is CompatLevel.WIRE_JSON

    # -- messages ---------------------------------------------------------------------------------

    def compare_messages(self, old: Descriptor, new: Descriptor, path: str) -> None:
        """Compare two versions of a message; `path` names it in reports (e.g. `Quote`)."""
        if not self._first_visit(old, new):
            return
        old_reserved, new_reserved = _message_reservations(old), _message_reservations(new)
        for number in sorted(old.fields_by_number):
            old_field = old.fields_by_number[number]
            field_path = f"{path}.{old_field.name}"
            new_field = new.fields_by_number.get(number)
            if new_field is None:
                self._field_gone(old_field, new, new_reserved, field_path)
            else:
                self._compare_fields(old_field, new_field, field_path)
        for number in sorted(new.fields_by_number):
            if number not in old.fields_by_number:
                self._field_added(new.fields_by_number[number], old_reserved, path)
        self._compare_oneofs(old, new, old_reserved, new_reserved, path)
        self._reservations_kept(
            old_reserved, new_reserved, set(new.fields_by_number), set(new.fields_by_name), path
        )

    def _field_gone(
        self, old_field: FieldDescriptor, new: Descriptor, reserved: _Reservations, path: str
    ) -> None:
        renumbered = new.fields_by_name.get(old_field.name)
        if renumbered is not None:
            self._report(
                path,
                Rule.FIELD_NUMBER_CHANGED,
                str(old_field.number),
                str(renumbered.number),
                f"data written under number {old_field.number} is no longer read into "
                f"`{old_field.name}` (a new number is a different field on the wire)",
            )
        missing = []
        if not reserved.number(old_field.number):
            missing.append(f"number {old_field.number}")
        if self._json and renumbered is None and old_field.name not in reserved.names:
            missing.append(f'name "{old_field.name}"')
        if missing:
            self._report(
                path,
                Rule.FIELD_REMOVED_NOT_RESERVED,
                _describe(old_field),
                "",
                f"reserve {' and '.join(missing)} so that no later field reuses "
                f"{'them' if len(missing) > 1 else 'it'} and misreads old data",
            )

    def _field_added(self, new_field: FieldDescriptor, reserved: _Reservations, path: str) -> None:
        if reserved.number(new_field.number):
            what = f"number {new_field.number}"
        elif self._json and new_field.name in reserved.names:
            what = f'name "{new_field.name}"'
        else:
            return
        self._report(
            f"{path}.{new_field.name}",
            Rule.FIELD_RESERVED_REUSED,
            f"reserved {what}",
            _describe(new_field),
            "reusing a reserved field makes data written before its removal misread",
        )

    def _compare_fields(self, old: FieldDescriptor, new: FieldDescriptor, path: str) -> None:
        if self._json:
            self._compare_json_names(old, new, path)
        self._compare_cardinality(old, new, path)
        self._compare_types(old, new, path)

    def _compare_json_names(self, old: FieldDescriptor, new: FieldDescriptor, path: str) -> None:
        writer, reader = self._writer_reader(old, new)
        accepted = {reader.name, reader.json_name}
        if writer.name not in accepted:
            self._report(
                path,
                Rule.FIELD_NAME_CHANGED,
                old.name,
                new.name,
                "proto3 JSON carries field names: JSON written with one is not read by the other",
            )
        elif writer.json_name not in accepted:
            self._report(
                path,
                Rule.FIELD_JSON_NAME_CHANGED,
                old.json_name,
                new.json_name,
                "JSON written with the camelCase name is not read by the other version",
            )

    def _compare_cardinality(self, old: FieldDescriptor, new: FieldDescriptor, path: str) -> None:
        old_kind, new_kind = _cardinality(old), _cardinality(new)
        if old_kind is new_kind:
            return
        if self._json:
            reason = "JSON values, arrays and objects are not interchangeable"
        else:
            _, reader_kind = self._writer_reader(old_kind, new_kind)
            if reader_kind is not _Cardinality.SINGULAR:
                return  # a repeated reader takes singular data as one element; a map is repeated
            reason = (
                "a singular reader keeps only the last element of repeated data "
                "(merges messages, cannot read packed numbers)"
            )
        self._report(path, Rule.FIELD_CARDINALITY_CHANGED, old_kind, new_kind, reason)

    def _compare_types(self, old: FieldDescriptor, new: FieldDescriptor, path: str) -> None:
        rule = type_change_rule(old.type, new.type, self._level)
        writer, reader = self._writer_reader(old, new)
        if rule is None and (writer.type, reader.type) == (_F.TYPE_BYTES, _F.TYPE_STRING):
            self._report(
                path,
                Rule.FIELD_TYPE_CHANGED,
                _type_name(old),
                _type_name(new),
                "bytes that are not valid UTF-8 fail a string reader ('String field had bad "
                "UTF-8')",
            )
        elif rule is not None:
            self._report(path, rule, _type_name(old), _type_name(new), _TYPE_REASONS[rule])
        elif old.message_type is not None and new.message_type is not None:
            self._compare_referenced(old.message_type, new.message_type, path)
        elif old.enum_type is not None and new.enum_type is not None:
            self._compare_referenced(old.enum_type, new.enum_type, path)

    def _compare_referenced(self, old: _Type, new: _Type, path: str) -> None:
        renamed = old.full_name != new.full_name
        if renamed and self._json and (is_well_known(old) or is_well_known(new)):
            self._report(
                path,
                Rule.FIELD_MESSAGE_TYPE_CHANGED,
                old.full_name,
                new.full_name,
                "google.protobuf types have their own proto3 JSON form",
            )
            return
        follow = renamed or self._follow_same_name
        if isinstance(old, Descriptor) and isinstance(new, Descriptor):
            if follow or is_map_entry(old):
                self.compare_messages(old, new, path)
        elif isinstance(old, EnumDescriptor) and isinstance(new, EnumDescriptor) and follow:
            self.compare_enums(old, new, path)

    def _compare_oneofs(
        self,
        old: Descriptor,
        new: Descriptor,
        old_reserved: _Reservations,
        new_reserved: _Reservations,
        path: str,
    ) -> None:
        """Flag every field whose oneof changed: moved into or out of a oneof, or to another one.

        Like buf's FIELD_SAME_ONEOF. A oneof is one slot: moving a field in lets a producer on one
        version set fields together that readers on the other overwrite with each other (or
        clear), and the generated API of the field changes. proto3 `optional` is not a oneof here.
        """
        for number in sorted(old.fields_by_number):
            new_field = new.fields_by_number.get(number)
            if new_field is None:
                continue
            old_field = old.fields_by_number[number]
            before = _oneof_of(old_field, old_reserved)
            after = _oneof_of(new_field, new_reserved)
            if before != after:
                self._report(
                    f"{path}.{old_field.name}",
                    Rule.FIELD_ONEOF_CHANGED,
                    f"oneof {before}" if before else "no oneof",
                    f"oneof {after}" if after else "no oneof",
                    "a oneof holds one of its fields: values one version sets together "
                    "overwrite each other in the other's oneof",
                )

    def _reservations_kept(
        self,
        old: _Reservations,
        new: _Reservations,
        used_numbers: set[int],
        used_names: set[str],
        path: str,
    ) -> None:
        """Flag reservations the new version drops (buf's RESERVED_*_NO_DELETE): a later version
        could then reuse the number or name and misread old data. One taken by a new field or
        value is FIELD_RESERVED_REUSED / ENUM_VALUE_RESERVED_REUSED instead."""
        for reserved in old.ranges:
            if any(n in reserved for n in used_numbers):
                continue
            if not _covered(reserved, new.ranges):
                last = reserved.stop - 1
                shown = (
                    str(reserved.start) if last == reserved.start else f"{reserved.start} to {last}"
                )
                self._report(
                    path,
                    Rule.RESERVED_REMOVED,
                    f"reserved {shown}",
                    "",
                    "keep reservations: a later version could reuse the numbers",
                )
        for name in sorted(old.names - new.names - used_names):
            self._report(
                path,
                Rule.RESERVED_REMOVED,
                f'reserved "{name}"',
                "",
                "keep reservations: a later version could reuse the name",
            )

    # -- enums ------------------------------------------------------------------------------------

    def compare_enums(self, old: EnumDescriptor, new: EnumDescriptor, path: str) -> None:
        """Compare two versions of an enum; value paths are `path` plus the value's name."""
        if not self._first_visit(old, new):
            return
        self._enum_values_read(old, new, path)
        self._enum_values_renumbered(old, new, path)
        self._enum_values_removed(old, new, path)
        self._enum_values_reused(old, new, path)
        self._reservations_kept(
            _enum_reservations(old),
            _enum_reservations(new),
            {v.number for v in new.values},
            set(new.values_by_name),
            path,
        )

    def _enum_values_read(self, old: EnumDescriptor, new: EnumDescriptor, path: str) -> None:
        writer, reader = self._writer_reader(old, new)
        old_names, new_names = _primary_names(old), _primary_names(new)
        for number, written in _primary_names(writer).items():
            known = [v.name for v in reader.values if v.number == number]
            value_path = f"{path}.{old_names.get(number) or new_names[number]}"
            old_value = f"{old_names[number]} = {number}" if number in old_names else ""
            new_value = f"{new_names[number]} = {number}" if number in new_names else ""
            if not known and reader.is_closed:
                self._report(
                    value_path,
                    Rule.ENUM_VALUE_NOT_IN_CLOSED_ENUM,
                    old_value,
                    new_value,
                    "a closed enum does not keep numbers it does not know: readers drop the value",
                )
            elif known and self._json and written not in known:
                self._report(
                    value_path,
                    Rule.ENUM_VALUE_NAME_CHANGED,
                    old_names[number],
                    new_names[number],
                    "proto3 JSON writes enum values by name",
                )

    def _enum_values_renumbered(self, old: EnumDescriptor, new: EnumDescriptor, path: str) -> None:
        for value in old.values:
            moved = new.values_by_name.get(value.name)
            if moved is not None and moved.number != value.number:
                self._report(
                    f"{path}.{value.name}",
                    Rule.ENUM_VALUE_NUMBER_CHANGED,
                    str(value.number),
                    str(moved.number),
                    "the wire carries enum numbers, so old data now means another value",
                )

    def _enum_values_removed(self, old: EnumDescriptor, new: EnumDescriptor, path: str) -> None:
        reserved = _enum_reservations(new)
        numbers = {v.number for v in new.values}
        for value in old.values:
            if value.number in numbers:
                continue  # still in use: a rename is ENUM_VALUE_NAME_CHANGED, not a removal
            missing = []
            if not reserved.number(value.number):
                missing.append(f"number {value.number}")
            if (
                self._json
                and value.name not in new.values_by_name
                and value.name not in reserved.names
            ):
                missing.append(f'name "{value.name}"')
            if missing:
                self._report(
                    f"{path}.{value.name}",
                    Rule.ENUM_VALUE_REMOVED_NOT_RESERVED,
                    f"{value.name} = {value.number}",
                    "",
                    f"reserve {' and '.join(missing)} so that no later value reuses "
                    f"{'them' if len(missing) > 1 else 'it'}",
                )

    def _enum_values_reused(self, old: EnumDescriptor, new: EnumDescriptor, path: str) -> None:
        reserved = _enum_reservations(old)
        numbers = {v.number for v in old.values}
        for value in new.values:
            if value.number not in numbers and reserved.number(value.number):
                what = f"number {value.number}"
            elif (
                self._json and value.name not in old.values_by_name and value.name in reserved.names
            ):
                what = f'name "{value.name}"'
            else:
                continue
            self._report(
                f"{path}.{value.name}",
                Rule.ENUM_VALUE_RESERVED_REUSED,
                f"reserved {what}",
                f"{value.name} = {value.number}",
                "reusing a reserved value makes data written before its removal misread",
            )
