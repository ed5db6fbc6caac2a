"""Compiling `.proto` files with grpcio-tools' bundled protoc: no system protoc is needed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from google.protobuf import descriptor_pb2

__all__ = ["CodegenError", "compile_descriptor_set", "proto_files", "run_protoc"]


class CodegenError(Exception):
    """The schemas could not be compiled or violate a rule of the contract."""


def proto_files(proto_root: Path) -> list[str]:
    """The `.proto` files under a buf module root, as import paths relative to it, sorted."""
    if not proto_root.is_dir():
        raise CodegenError(f"schema directory not found: {proto_root}")
    files = sorted(p.relative_to(proto_root).as_posix() for p in proto_root.rglob("*.proto"))
    if not files:
        raise CodegenError(f"no .proto files under {proto_root}")
    return files


def _well_known_include() -> str:
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")


def run_protoc(proto_root: Path, files: Sequence[str], out_args: Sequence[str]) -> None:
    """Run protoc on `files` (relative to `proto_root`) with extra output arguments."""
    from grpc_tools import protoc

    args = ["protoc", f"-I{proto_root}", f"-I{_well_known_include()}", *out_args, *files]
    # protoc prints its diagnostics to stderr itself; we only need its verdict.
    if protoc.main(args) != 0:
        raise CodegenError(f"protoc failed on {proto_root} (see the messages above)")


def compile_descriptor_set(proto_root: Path) -> descriptor_pb2.FileDescriptorSet:
    """Compile every schema under `proto_root` into one self-contained descriptor set.

    Imports (including google/protobuf/*) are included so the set can seed a descriptor pool on
    its own, and source info is kept because comments are part of the contract's documentation.
    """
    files = proto_files(proto_root)
    fd, out = tempfile.mkstemp(suffix=".binpb")
    os.close(fd)
    try:
        run_protoc(
            proto_root,
            files,
            [f"--descriptor_set_out={out}", "--include_imports", "--include_source_info"],
        )
        data = Path(out).read_bytes()
    finally:
        os.unlink(out)
    result = descriptor_pb2.FileDescriptorSet()
    result.ParseFromString(data)
    return result
