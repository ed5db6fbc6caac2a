"""Generated changes of the contract's schemas, for the differential test against `buf breaking`.

Each `Mutation` is a pair of descriptor sets (old, new) and the kind of change between them. They
are made by editing FileDescriptorProtos directly (no .proto text, no protoc per mutation), from
the frozen contract snapshot, so the same seed gives the same mutations on every machine. Every
edit is also used in reverse (new -> old): adding a field becomes removing it, moving into a oneof
becomes moving out, so both directions of every kind are covered.

Kinds that need something the contract lacks (a oneof, a map, a nested message, a bytes field,
proto3 `optional`) first add it to the old side ("prepared" pairs): old = base + preparation,
new = old + the change.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from google.protobuf import descriptor_pb2

__all__ = ["Mutation", "generate_mutations"]

FDP = descriptor_pb2.FieldDescriptorProto
FileSet = descriptor_pb2.FileDescriptorSet

_SCALARS = [
    FDP.TYPE_DOUBLE,
    FDP.TYPE_FLOAT,
    FDP.TYPE_INT64,
    FDP.TYPE_UINT64,
    FDP.TYPE_INT32,
    FDP.TYPE_FIXED64,
    FDP.TYPE_FIXED32,
    FDP.TYPE_BOOL,
    FDP.TYPE_STRING,
    FDP.TYPE_BYTES,
    FDP.TYPE_UINT32,
    FDP.TYPE_SFIXED32,
    FDP.TYPE_SFIXED64,
    FDP.TYPE_SINT32,
    FDP.TYPE_SINT64,
]
_TYPE_NAMES = {v: k.removeprefix("TYPE_").lower() for k, v in FDP.Type.items()}
#: Sampling rate of the sites each kind of change is applied to (about 420 mutations in all).
_SCALE = 0.6


@dataclass(frozen=True)
class Mutation:
    """One change: `kind` groups changes of the same nature (the allowlist is keyed by it)."""

    kind: str
    detail: str
    old: FileSet
    new: FileSet


def _camel(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


@dataclass
class _Site:
    """A message somewhere in a file: the path to reach it again in a copy."""

    file: int
    path: tuple[int, ...]
    full_name: str


def _message_at(fs: FileSet, site: _Site) -> descriptor_pb2.DescriptorProto:
    file = fs.file[site.file]
    message = file.message_type[site.path[0]]
    for index in site.path[1:]:
        message = message.nested_type[index]
    return message


def _sites(fs: FileSet) -> list[_Site]:
    found: list[_Site] = []

    def walk(file: int, prefix: str, protos: object, path: tuple[int, ...]) -> None:
        for index, proto in enumerate(protos):  # type: ignore[call-overload]
            here = (*path, index)
            if proto.options.map_entry:
                continue
            found.append(_Site(file, here, f"{prefix}.{proto.name}"))
            walk(file, f"{prefix}.{proto.name}", proto.nested_type, here)

    for index, file in enumerate(fs.file):
        if _is_contract_file(file):
            walk(index, file.package, file.message_type, ())
    return found


def _is_contract_file(file: descriptor_pb2.FileDescriptorProto) -> bool:
    return not file.name.startswith("google/") and file.package != "nautilus.bus.v1"


def _copy(fs: FileSet) -> FileSet:
    out = FileSet()
    out.CopyFrom(fs)
    return out


def _free_number(message: descriptor_pb2.DescriptorProto) -> int:
    used = {f.number for f in message.field}
    for r in message.reserved_range:
        used.update(range(r.start, r.end))
    number = 1
    while number in used:
        number += 1
    return max(number, max(used, default=0) + 1)


def _referenced(fs: FileSet) -> set[str]:
    refs: set[str] = set()

    def walk(protos: object) -> None:
        for proto in protos:  # type: ignore[attr-defined]
            for field in proto.field:
                if field.type_name:
                    refs.add(field.type_name.lstrip("."))
            walk(proto.nested_type)

    for file in fs.file:
        walk(file.message_type)
    return refs


def _rename_refs(fs: FileSet, old: str, new: str) -> None:
    def walk(protos: object) -> None:
        for proto in protos:  # type: ignore[attr-defined]
            for field in proto.field:
                if field.type_name == f".{old}":
                    field.type_name = f".{new}"
                elif field.type_name.startswith(f".{old}."):
                    field.type_name = f".{new}" + field.type_name[len(old) + 1 :]
            walk(proto.nested_type)

    for file in fs.file:
        walk(file.message_type)


Edit = Callable[[FileSet], str | None]


class _Generator:
    def __init__(self, base: FileSet, rng: random.Random) -> None:
        self.base = base
        self.rng = rng
        self.sites = _sites(base)

    def _field_sites(
        self, accept: Callable[[descriptor_pb2.FieldDescriptorProto], bool]
    ) -> list[tuple[_Site, int]]:
        found = []
        for site in self.sites:
            message = _message_at(self.base, site)
            for index, field in enumerate(message.field):
                if accept(field) and not field.HasField("oneof_index"):
                    found.append((site, index))
        return found

    def pick(self, items: list, count: int) -> list:  # type: ignore[type-arg]
        """A sample of `count` x SCALE items: every kind stays covered, CI time stays modest."""
        wanted = max(2, round(count * _SCALE))
        return self.rng.sample(items, min(wanted, len(items)))

    # -- field-level edits ------------------------------------------------------------------------

    def field_edits(self) -> Iterator[tuple[str, str, Edit, Edit | None]]:  # noqa: PLR0915
        """(kind, detail, edit, preparation) for field-level changes."""
        scalars = self._field_sites(lambda f: f.label != FDP.LABEL_REPEATED and f.type in _SCALARS)
        messages = self._field_sites(
            lambda f: f.type == FDP.TYPE_MESSAGE and f.label != FDP.LABEL_REPEATED
        )
        repeated = self._field_sites(lambda f: f.label == FDP.LABEL_REPEATED)
        enums = self._field_sites(lambda f: f.type == FDP.TYPE_ENUM)
        every = self._field_sites(lambda f: True)

        def on(site: _Site, index: int, change: Callable[..., str | None]) -> Edit:
            def edit(fs: FileSet) -> str | None:
                message = _message_at(fs, site)
                return change(message, message.field[index])

            return edit

        for site, index in self.pick(every, 14):

            def renumber(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.number = _free_number(m)
                return f"{m.name}.{f.name} -> {f.number}"

            yield "field_number_changed", "", on(site, index, renumber), None

        for site, index in self.pick(every, 14):

            def rename(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.name = f"{f.name}_renamed"
                f.json_name = _camel(f.name)
                return f"{m.name}.{f.name}"

            yield "field_renamed", "", on(site, index, rename), None

        for site, index in self.pick(every, 12):

            def rename_keep_json(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.name = f"{f.name}_renamed"
                return f"{m.name}.{f.name} json_name kept {f.json_name}"

            yield "field_renamed_json_name_kept", "", on(site, index, rename_keep_json), None

        for site, index in self.pick(every, 12):

            def json_name(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.json_name = f"{f.json_name}Alt"
                return f"{m.name}.{f.name} json_name {f.json_name}"

            yield "field_json_name_changed", "", on(site, index, json_name), None

        for site, index in self.pick(scalars, 40):
            target = self.rng.choice(_SCALARS)

            def retype(
                m: descriptor_pb2.DescriptorProto, f: FDP, target: int = target
            ) -> str | None:
                if f.type == target:
                    return None
                before = _TYPE_NAMES[f.type]
                f.type = target  # type: ignore[assignment]
                return f"{m.name}.{f.name} {before} -> {_TYPE_NAMES[target]}"

            yield "field_type_changed", "", on(site, index, retype), None

        strings = self._field_sites(
            lambda f: f.type == FDP.TYPE_STRING and f.label != FDP.LABEL_REPEATED
        )
        for site, index in self.pick(strings, 10):

            def to_bytes(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.type = FDP.TYPE_BYTES
                return f"{m.name}.{f.name} string -> bytes"

            yield "field_string_bytes", "", on(site, index, to_bytes), None

        for site, index in self.pick(messages, 10):

            def to_bytes_message(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                before = f.type_name
                f.type = FDP.TYPE_BYTES
                f.ClearField("type_name")
                return f"{m.name}.{f.name} {before} -> bytes"

            yield "field_message_bytes", "", on(site, index, to_bytes_message), None

        for site, index in self.pick(enums, 8):

            def enum_to_int(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.type = FDP.TYPE_INT32
                f.ClearField("type_name")
                return f"{m.name}.{f.name} enum -> int32"

            yield "field_enum_int", "", on(site, index, enum_to_int), None

        for site, index in self.pick(scalars + messages, 20):

            def to_repeated(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.label = FDP.LABEL_REPEATED
                return f"{m.name}.{f.name} singular -> repeated"

            yield "field_cardinality_changed", "", on(site, index, to_repeated), None

        for site, index in self.pick(repeated, 6):

            def to_singular(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.label = FDP.LABEL_OPTIONAL
                return f"{m.name}.{f.name} repeated -> singular"

            yield "field_cardinality_changed", "", on(site, index, to_singular), None

        for site, index in self.pick(scalars + messages, 12):

            def optional(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                f.proto3_optional = True
                f.oneof_index = len(m.oneof_decl)
                m.oneof_decl.add(name=f"_{f.name}")
                return f"{m.name}.{f.name} gains presence"

            yield "field_presence_changed", "", on(site, index, optional), None

        for site, index in self.pick(every, 14):

            def removed(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                name = f.name
                m.field.remove(f)
                return f"{m.name}.{name} removed"

            yield "field_removed", "", on(site, index, removed), None

        for site, index in self.pick(every, 10):

            def removed_reserved(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                name, number = f.name, f.number
                m.field.remove(f)
                m.reserved_range.add(start=number, end=number + 1)
                m.reserved_name.append(name)
                return f"{m.name}.{name} removed, number and name reserved"

            yield "field_removed_reserved", "", on(site, index, removed_reserved), None

        for site, index in self.pick(every, 8):

            def removed_number_reserved(m: descriptor_pb2.DescriptorProto, f: FDP) -> str:
                name, number = f.name, f.number
                m.field.remove(f)
                m.reserved_range.add(start=number, end=number + 1)
                return f"{m.name}.{name} removed, number reserved"

            yield (
                "field_removed_number_reserved",
                "",
                on(site, index, removed_number_reserved),
                None,
            )

    # -- message-level edits ----------------------------------------------------------------------

    def message_edits(self) -> Iterator[tuple[str, str, Edit, Edit | None]]:  # noqa: PLR0915
        for site in self.pick(self.sites, 14):

            def add_field(fs: FileSet, site: _Site = site) -> str:
                m = _message_at(fs, site)
                number = _free_number(m)
                m.field.add(
                    name="added_field", json_name="addedField", number=number,
                    label=FDP.LABEL_OPTIONAL, type=FDP.TYPE_STRING,
                )  # fmt: skip
                return f"{site.full_name}.added_field = {number}"

            yield "field_added", "", add_field, None

        for site in self.pick(self.sites, 8):

            def reserve(fs: FileSet, site: _Site = site) -> str:
                m = _message_at(fs, site)
                number = _free_number(m)
                m.reserved_range.add(start=number, end=number + 1)
                m.reserved_name.append("unused_name")
                return f"{site.full_name} reserves {number} and unused_name"

            yield "reserved_added", "", reserve, None

        for site in self.pick(self.sites, 10):

            def into_new_oneof(fs: FileSet, site: _Site = site) -> str | None:
                m = _message_at(fs, site)
                fields = [f for f in m.field if not f.HasField("oneof_index")]
                if not fields:
                    return None
                f = fields[-1]
                f.oneof_index = len(m.oneof_decl)
                m.oneof_decl.add(name="choice")
                return f"{site.full_name}.{f.name} into new oneof"

            yield "oneof_membership_changed", "", into_new_oneof, None

        for site in self.pick(self.sites, 10):

            def two_into_oneof(fs: FileSet, site: _Site = site) -> str | None:
                m = _message_at(fs, site)
                fields = [
                    f for f in m.field if not f.HasField("oneof_index") and
                    f.label != FDP.LABEL_REPEATED
                ]  # fmt: skip
                if len(fields) < 2:
                    return None
                for f in fields[-2:]:
                    f.oneof_index = len(m.oneof_decl)
                m.oneof_decl.add(name="choice")
                return f"{site.full_name}: {fields[-2].name}, {fields[-1].name} into a oneof"

            yield "oneof_membership_changed", "", two_into_oneof, None

        def prepare_oneof(site: _Site) -> Edit:
            def prepare(fs: FileSet) -> str | None:
                m = _message_at(fs, site)
                number = _free_number(m)
                m.oneof_decl.add(name="choice")
                for offset, name in enumerate(("first_choice", "second_choice")):
                    m.field.add(
                        name=name, json_name=_camel(name), number=number + offset,
                        label=FDP.LABEL_OPTIONAL, type=FDP.TYPE_INT64,
                        oneof_index=len(m.oneof_decl) - 1,
                    )  # fmt: skip
                return "prepared: oneof choice {first_choice, second_choice}"

            return prepare

        for site in self.pick(self.sites, 8):

            def oneof_renamed(fs: FileSet, site: _Site = site) -> str:
                m = _message_at(fs, site)
                m.oneof_decl[-1].name = "selection"
                return f"{site.full_name} oneof choice renamed selection"

            yield "oneof_renamed", "", oneof_renamed, prepare_oneof(site)

        for site in self.pick(self.sites, 8):

            def out_of_oneof(fs: FileSet, site: _Site = site) -> str:
                m = _message_at(fs, site)
                m.field[-1].ClearField("oneof_index")
                return f"{site.full_name}.second_choice out of its oneof"

            yield "oneof_membership_changed", "", out_of_oneof, prepare_oneof(site)

        def prepare_map(site: _Site) -> Edit:
            def prepare(fs: FileSet) -> str:
                m = _message_at(fs, site)
                number = _free_number(m)
                entry = m.nested_type.add(name="LabelsEntry")
                entry.options.map_entry = True
                entry.field.add(name="key", json_name="key", number=1, label=FDP.LABEL_OPTIONAL,
                                type=FDP.TYPE_STRING)  # fmt: skip
                entry.field.add(name="value", json_name="value", number=2,
                                label=FDP.LABEL_OPTIONAL, type=FDP.TYPE_DOUBLE)  # fmt: skip
                m.field.add(name="labels", json_name="labels", number=number,
                            label=FDP.LABEL_REPEATED, type=FDP.TYPE_MESSAGE,
                            type_name=f".{site.full_name}.LabelsEntry")  # fmt: skip
                return "prepared: map<string, double> labels"

            return prepare

        map_value_types = [FDP.TYPE_FLOAT, FDP.TYPE_INT64, FDP.TYPE_STRING, FDP.TYPE_SINT64]
        for site in self.pick(self.sites, 10):
            target = self.rng.choice(map_value_types)

            def map_value(fs: FileSet, site: _Site = site, target: int = target) -> str:
                m = _message_at(fs, site)
                entry = next(n for n in m.nested_type if n.name == "LabelsEntry")
                entry.field[1].type = target  # type: ignore[assignment]
                return f"{site.full_name}.labels value double -> {_TYPE_NAMES[target]}"

            yield "map_value_type_changed", "", map_value, prepare_map(site)

        for site in self.pick(self.sites, 6):

            def map_key(fs: FileSet, site: _Site = site) -> str:
                m = _message_at(fs, site)
                entry = next(n for n in m.nested_type if n.name == "LabelsEntry")
                entry.field[0].type = FDP.TYPE_INT64
                return f"{site.full_name}.labels key string -> int64"

            yield "map_key_type_changed", "", map_key, prepare_map(site)

        for site in self.pick(self.sites, 6):

            def map_to_repeated(fs: FileSet, site: _Site = site) -> str:
                m = _message_at(fs, site)
                entry = next(n for n in m.nested_type if n.name == "LabelsEntry")
                entry.options.map_entry = False
                entry.name = "Label"
                m.field[-1].type_name = f".{site.full_name}.Label"
                return f"{site.full_name}.labels map -> repeated Label"

            yield "map_to_repeated_message", "", map_to_repeated, prepare_map(site)

        def prepare_nested(site: _Site) -> Edit:
            def prepare(fs: FileSet) -> str:
                m = _message_at(fs, site)
                number = _free_number(m)
                nested = m.nested_type.add(name="Detail")
                nested.field.add(name="score", json_name="score", number=1,
                                 label=FDP.LABEL_OPTIONAL, type=FDP.TYPE_DOUBLE)  # fmt: skip
                nested.field.add(name="note", json_name="note", number=2,
                                 label=FDP.LABEL_OPTIONAL, type=FDP.TYPE_STRING)  # fmt: skip
                m.field.add(name="detail", json_name="detail", number=number,
                            label=FDP.LABEL_OPTIONAL, type=FDP.TYPE_MESSAGE,
                            type_name=f".{site.full_name}.Detail")  # fmt: skip
                return "prepared: nested message Detail"

            return prepare

        nested_changes: list[tuple[str, Callable[[descriptor_pb2.DescriptorProto], None]]] = [
            ("nested_field_type_changed", lambda n: setattr(n.field[0], "type", FDP.TYPE_FLOAT)),
            ("nested_field_string_bytes", lambda n: setattr(n.field[1], "type", FDP.TYPE_BYTES)),
            ("nested_field_renamed", lambda n: setattr(n.field[1], "name", "remark")),
            ("nested_field_number_changed", lambda n: setattr(n.field[1], "number", 3)),
            ("nested_field_removed", lambda n: n.field.pop()),
            (
                "nested_field_cardinality_changed",
                lambda n: setattr(n.field[0], "label", FDP.LABEL_REPEATED),
            ),
        ]
        for site in self.pick(self.sites, 12):
            kind, change = self.rng.choice(nested_changes)

            def nested(fs: FileSet, site: _Site = site, change: Callable = change) -> str:  # type: ignore[type-arg]
                m = _message_at(fs, site)
                detail = next(n for n in m.nested_type if n.name == "Detail")
                change(detail)
                return f"{site.full_name}.Detail changed"

            yield kind, "", nested, prepare_nested(site)

        for site in self.pick(self.sites, 6):

            def nested_renamed(fs: FileSet, site: _Site = site) -> str:
                m = _message_at(fs, site)
                detail = next(n for n in m.nested_type if n.name == "Detail")
                detail.name = "Details"
                _rename_refs(fs, f"{site.full_name}.Detail", f"{site.full_name}.Details")
                return f"{site.full_name}.Detail renamed Details"

            yield "nested_message_renamed", "", nested_renamed, prepare_nested(site)

        referenced = _referenced(self.base)
        leaves = [s for s in self.sites if s.full_name not in referenced and len(s.path) == 1]
        for site in self.pick(leaves, 8):

            def deleted(fs: FileSet, site: _Site = site) -> str:
                del fs.file[site.file].message_type[site.path[0]]
                return f"{site.full_name} deleted"

            yield "message_deleted", "", deleted, None

        for site in self.pick([s for s in self.sites if len(s.path) == 1], 8):

            def renamed(fs: FileSet, site: _Site = site) -> str:
                m = _message_at(fs, site)
                m.name = f"{m.name}Renamed"
                _rename_refs(fs, site.full_name, f"{site.full_name}Renamed")
                return f"{site.full_name} renamed"

            yield "message_renamed", "", renamed, None

        for site in self.pick(self.sites, 6):

            def message_added(fs: FileSet, site: _Site = site) -> str:
                file = fs.file[site.file]
                added = file.message_type.add(name="AddedMessage")
                added.field.add(name="value", json_name="value", number=1,
                                label=FDP.LABEL_OPTIONAL, type=FDP.TYPE_DOUBLE)  # fmt: skip
                return f"{file.package}.AddedMessage added"

            yield "message_added", "", message_added, None

    # -- enums and packages -----------------------------------------------------------------------

    def enum_edits(self) -> Iterator[tuple[str, str, Edit, Edit | None]]:
        enums = []
        for fi, file in enumerate(self.base.file):
            if _is_contract_file(file):
                for ei, enum in enumerate(file.enum_type):
                    enums.append((fi, ei, f"{file.package}.{enum.name}"))

        def on(
            fi: int, ei: int, change: Callable[[descriptor_pb2.EnumDescriptorProto], str | None]
        ) -> Edit:
            return lambda fs: change(fs.file[fi].enum_type[ei])

        for fi, ei, name in self.pick(enums, 10):

            def value_added(e: descriptor_pb2.EnumDescriptorProto, name: str = name) -> str:
                prefix = e.value[0].name.removesuffix("UNSPECIFIED")
                number = max(v.number for v in e.value) + 1
                e.value.add(name=f"{prefix}ADDED", number=number)
                return f"{name}: value {number} added"

            yield "enum_value_added", "", on(fi, ei, value_added), None

        for fi, ei, name in self.pick(enums, 10):

            def value_removed(
                e: descriptor_pb2.EnumDescriptorProto, name: str = name
            ) -> str | None:
                if len(e.value) < 3:
                    return None
                gone = e.value.pop()
                return f"{name}.{gone.name} removed"

            yield "enum_value_removed", "", on(fi, ei, value_removed), None

        for fi, ei, name in self.pick(enums, 8):

            def value_removed_reserved(
                e: descriptor_pb2.EnumDescriptorProto, name: str = name
            ) -> str | None:
                if len(e.value) < 3:
                    return None
                gone = e.value.pop()
                e.reserved_range.add(start=gone.number, end=gone.number)
                e.reserved_name.append(gone.name)
                return f"{name}.{gone.name} removed, reserved"

            yield "enum_value_removed_reserved", "", on(fi, ei, value_removed_reserved), None

        for fi, ei, name in self.pick(enums, 10):

            def value_renamed(e: descriptor_pb2.EnumDescriptorProto, name: str = name) -> str:
                value = e.value[-1]
                value.name = f"{value.name}_RENAMED"
                return f"{name}.{value.name}"

            yield "enum_value_renamed", "", on(fi, ei, value_renamed), None

        for fi, ei, name in self.pick(enums, 8):

            def value_renumbered(e: descriptor_pb2.EnumDescriptorProto, name: str = name) -> str:
                value = e.value[-1]
                value.number = max(v.number for v in e.value) + 1
                return f"{name}.{value.name} -> {value.number}"

            yield "enum_value_number_changed", "", on(fi, ei, value_renumbered), None

        referenced = _referenced(self.base)
        for fi, ei, name in self.pick([e for e in enums if e[2] not in referenced], 4):

            def enum_deleted(fs: FileSet, fi: int = fi, ei: int = ei, name: str = name) -> str:
                del fs.file[fi].enum_type[ei]
                return f"{name} deleted"

            yield "enum_deleted", "", enum_deleted, None

        files = [i for i, f in enumerate(self.base.file) if _is_contract_file(f)]
        for fi in self.pick(files, 6):

            def package_moved(fs: FileSet, fi: int = fi) -> str | None:
                file = fs.file[fi]
                old = file.package
                if old == "nautilus.common.v1":
                    return None
                new = old.removesuffix(".v1") + ".v2"
                file.package = new
                for message in file.message_type:
                    _rename_refs(fs, f"{old}.{message.name}", f"{new}.{message.name}")
                for enum in file.enum_type:
                    _rename_refs(fs, f"{old}.{enum.name}", f"{new}.{enum.name}")
                return f"{old} -> {new}"

            yield "package_moved", "", package_moved, None


def generate_mutations(base: FileSet, seed: int = 11) -> Iterator[Mutation]:
    """Every generated change of `base`, forward and in reverse (`<kind>/reverse`)."""
    generator = _Generator(base, random.Random(seed))
    edits = [
        *generator.field_edits(),
        *generator.message_edits(),
        *generator.enum_edits(),
    ]
    for kind, _, edit, prepare in edits:
        old = _copy(base)
        if prepare is not None and prepare(old) is None:
            continue
        new = _copy(old)
        detail = edit(new)
        if detail is None:
            continue
        yield Mutation(kind, detail, old, new)
        yield Mutation(f"{kind}/reverse", detail, new, old)
