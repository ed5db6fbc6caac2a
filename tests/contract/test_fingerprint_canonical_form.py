"""The canonical form behind fingerprints covers oneof membership, map entries and every type a
message references, however the references are arranged (docs/wire-format.md, "Fingerprint").

The schemas here are built as descriptors in a private pool, so each case differs from its
neighbour in exactly one respect."""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool

from nautilus.runtime.schema import fingerprint

F = descriptor_pb2.FieldDescriptorProto


def _fingerprint_of(build_file: descriptor_pb2.FileDescriptorProto, name: str = "M") -> str:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(build_file)
    return fingerprint(pool.FindMessageTypeByName(f"t.v1.{name}"))


def _file() -> descriptor_pb2.FileDescriptorProto:
    return descriptor_pb2.FileDescriptorProto(name="t.proto", package="t.v1", syntax="proto3")


def _field(name: str, number: int, kind: int, **extra: object) -> F:
    return F(name=name, number=number, type=kind, label=F.LABEL_OPTIONAL, **extra)


def _with_oneof(oneof: str) -> descriptor_pb2.FileDescriptorProto:
    file = _file()
    message = file.message_type.add(name="M")
    message.oneof_decl.add(name=oneof)
    message.field.append(_field("x", 1, F.TYPE_INT64, oneof_index=0))
    return file


def test_the_oneof_a_field_belongs_to_is_part_of_the_fingerprint() -> None:
    assert _fingerprint_of(_with_oneof("choice")) != _fingerprint_of(_with_oneof("other"))


def _entries(as_map: bool) -> descriptor_pb2.FileDescriptorProto:
    file = _file()
    message = file.message_type.add(name="M")
    entry = message.nested_type.add(name="ValuesEntry")
    entry.field.append(_field("key", 1, F.TYPE_STRING))
    entry.field.append(_field("value", 2, F.TYPE_INT64))
    entry.options.map_entry = as_map
    message.field.append(
        F(name="values", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
          type_name=".t.v1.M.ValuesEntry")
    )  # fmt: skip
    return file


def test_a_map_and_a_repeated_message_of_the_same_shape_differ() -> None:
    assert _fingerprint_of(_entries(as_map=True)) != _fingerprint_of(_entries(as_map=False))


def _references(c_field: str) -> descriptor_pb2.FileDescriptorProto:
    """M references C, then the enum E, then A twice."""
    file = _file()
    file.message_type.add(name="C").field.append(_field(c_field, 1, F.TYPE_INT64))
    file.message_type.add(name="A").field.append(_field("a", 1, F.TYPE_INT64))
    file.enum_type.add(name="E").value.add(name="E_UNSPECIFIED", number=0)
    message = file.message_type.add(name="M")
    message.field.append(_field("c", 1, F.TYPE_MESSAGE, type_name=".t.v1.C"))
    message.field.append(_field("e", 2, F.TYPE_ENUM, type_name=".t.v1.E"))
    message.field.append(_field("a1", 3, F.TYPE_MESSAGE, type_name=".t.v1.A"))
    message.field.append(_field("a2", 4, F.TYPE_MESSAGE, type_name=".t.v1.A"))
    return file


def test_every_referenced_type_counts_after_repeated_and_enum_references() -> None:
    assert _fingerprint_of(_references("c")) != _fingerprint_of(_references("renamed"))


def _edition_2023() -> descriptor_pb2.FileDescriptorProto:
    return descriptor_pb2.FileDescriptorProto(
        name="t.proto", package="t.v1", syntax="editions", edition=descriptor_pb2.EDITION_2023
    )


def _with_presence(
    presence: descriptor_pb2.FeatureSet.FieldPresence.ValueType,
) -> descriptor_pb2.FileDescriptorProto:
    file = _edition_2023()
    field = _field("bid_size", 1, F.TYPE_INT64)
    field.options.features.field_presence = presence
    file.message_type.add(name="M").field.append(field)
    return file


def test_whether_a_field_tracks_its_presence_is_part_of_the_fingerprint() -> None:
    """A reader of an explicit-presence field tells "not sent" from zero; one of an implicit-
    presence field cannot, so the two are different schemas."""
    explicit = _fingerprint_of(_with_presence(descriptor_pb2.FeatureSet.EXPLICIT))
    assert explicit != _fingerprint_of(_with_presence(descriptor_pb2.FeatureSet.IMPLICIT))


def _with_side_enum(
    kind: descriptor_pb2.FeatureSet.EnumType.ValueType,
) -> descriptor_pb2.FileDescriptorProto:
    file = _edition_2023()
    side = file.enum_type.add(name="Side")
    side.value.add(name="SIDE_UNSPECIFIED", number=0)
    side.value.add(name="SIDE_BUY", number=1)
    side.value.add(name="SIDE_SELL", number=2)
    side.options.features.enum_type = kind
    file.message_type.add(name="M").field.append(
        _field("side", 1, F.TYPE_ENUM, type_name=".t.v1.Side")
    )
    return file


def test_a_closed_enum_and_an_open_one_with_the_same_values_differ() -> None:
    """An unknown number read into a closed enum goes to the unknown fields, into an open one it
    is kept as the field's value: readers of the two see different messages."""
    closed = _fingerprint_of(_with_side_enum(descriptor_pb2.FeatureSet.CLOSED))
    assert closed != _fingerprint_of(_with_side_enum(descriptor_pb2.FeatureSet.OPEN))
