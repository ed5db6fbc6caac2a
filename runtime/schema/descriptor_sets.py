"""Reading FileDescriptorSets (protoc's --descriptor_set_out, buf images) into descriptors.

Each set gets a private descriptor pool, so two versions of the same contract can be loaded side by
side in one process without clashing with each other or with the generated classes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, EnumDescriptor
from google.protobuf.message import DecodeError

__all__ = [
    "DescriptorSetError",
    "build_pool",
    "iter_types",
    "message_descriptor",
    "parse_descriptor_set",
]

_WELL_KNOWN_DIR = "google/protobuf/"


class DescriptorSetError(ValueError):
    """A descriptor set could not be decoded or does not describe a consistent set of files."""


def parse_descriptor_set(
    data: bytes, source: str = "descriptor set"
) -> descriptor_pb2.FileDescriptorSet:
    """Decode a binary FileDescriptorSet; an empty one is an error, not an empty contract.

    Refusing empty sets matters for CI: a truncated baseline would otherwise make every change
    look compatible.
    """
    result = descriptor_pb2.FileDescriptorSet()
    try:
        result.ParseFromString(data)
    except DecodeError as exc:
        raise DescriptorSetError(f"{source} is not a binary FileDescriptorSet: {exc}") from exc
    if not result.file or any(not f.name for f in result.file):
        raise DescriptorSetError(f"{source} is not a binary FileDescriptorSet (no named files)")
    return result


def _well_known_file(name: str) -> descriptor_pb2.FileDescriptorProto | None:
    """protobuf's own copy of a google/protobuf/*.proto file, for sets built without imports."""
    if not name.startswith(_WELL_KNOWN_DIR) or not name.endswith(".proto"):
        return None
    try:
        importlib.import_module(name.removesuffix(".proto").replace("/", ".") + "_pb2")
        found = descriptor_pool.Default().FindFileByName(name)
    except (ImportError, KeyError):
        return None
    return descriptor_pb2.FileDescriptorProto.FromString(found.serialized_pb)


def build_pool(descriptor_set: descriptor_pb2.FileDescriptorSet) -> descriptor_pool.DescriptorPool:
    """A new pool holding every file of `descriptor_set`, dependencies first.

    Missing google/protobuf imports are taken from the protobuf runtime; any other missing import
    or inconsistency raises DescriptorSetError.
    """
    files = {f.name: f for f in descriptor_set.file}
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str, importer: str) -> None:
        if name in added:
            return
        file = files.get(name) or _well_known_file(name)
        if file is None:
            raise DescriptorSetError(
                f"{importer} imports {name}, which the descriptor set does not contain "
                "(build it with imports included)"
            )
        added.add(name)
        for dependency in file.dependency:
            add(dependency, name)
        try:
            pool.Add(file)
        except (TypeError, ValueError) as exc:
            raise DescriptorSetError(f"{name} does not build a descriptor: {exc}") from exc

    for name in files:
        add(name, name)
    return pool


def iter_types(
    descriptor_set: descriptor_pb2.FileDescriptorSet, pool: descriptor_pool.DescriptorPool
) -> Iterator[Descriptor | EnumDescriptor]:
    """Every message and enum the set's files declare, nested ones included, map entries not."""

    def walk(message: Descriptor) -> Iterator[Descriptor | EnumDescriptor]:
        if message.GetOptions().map_entry:
            return
        yield message
        yield from message.enum_types
        for nested in message.nested_types:
            yield from walk(nested)

    for file_proto in descriptor_set.file:
        file = pool.FindFileByName(file_proto.name)
        yield from file.enum_types_by_name.values()
        for message in file.message_types_by_name.values():
            yield from walk(message)


def message_descriptor(
    descriptor_set: descriptor_pb2.FileDescriptorSet, full_name: str
) -> Descriptor:
    """The descriptor of message `full_name` from a set, e.g. one version stored in a registry."""
    pool = build_pool(descriptor_set)
    try:
        return pool.FindMessageTypeByName(full_name)
    except KeyError as exc:
        raise DescriptorSetError(f"the descriptor set has no message {full_name}") from exc
