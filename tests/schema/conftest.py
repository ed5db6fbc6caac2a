"""Fixtures for schema compatibility tests: compiling small inline schemas in-process."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor

from nautilus.codegen.compile import compile_descriptor_set
from nautilus.runtime.schema import message_descriptor

WriteSchema = Callable[[str, dict[str, str]], Path]
CompileSchema = Callable[[dict[str, str]], descriptor_pb2.FileDescriptorSet]
LoadMessage = Callable[[str, str], Descriptor]


@pytest.fixture
def write_schema(tmp_path: Path) -> WriteSchema:
    """Write `{relative path: proto source}` into a fresh module root named `name`."""

    def write(name: str, files: dict[str, str]) -> Path:
        root = tmp_path / name
        for relative, source in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source).lstrip())
        return root

    return write


@pytest.fixture
def compile_schema(write_schema: WriteSchema) -> CompileSchema:
    """Compile `{relative path: proto source}` into a descriptor set (imports included)."""
    counter = iter(range(1_000_000))

    def compile_files(files: dict[str, str]) -> descriptor_pb2.FileDescriptorSet:
        return compile_descriptor_set(write_schema(f"module{next(counter)}", files))

    return compile_files


@pytest.fixture
def load_message(compile_schema: CompileSchema) -> LoadMessage:
    """The descriptor of message `full_name` from one proto3 file's source."""

    def load(source: str, full_name: str) -> Descriptor:
        package = full_name.rsplit(".", 1)[0]
        return message_descriptor(
            compile_schema({f"{package.replace('.', '/')}/schema.proto": source}), full_name
        )

    return load
