"""Wire conformance with an independent protobuf implementation (betterproto2).

The peer classes are generated from the same schemas at test time by betterproto2's own protoc
plugin, so they share no code with the upb classes: agreement in both directions shows that what
our engines put on the wire is plain, standard protobuf that any client can read.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from nautilus.codegen.compile import proto_files, run_protoc
from tests.samples import all_bus_message_classes, sample_message

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
PEER_PACKAGE = "betterproto_peer"
MESSAGE_CLASSES = all_bus_message_classes()
IDS = [cls.DESCRIPTOR.full_name for cls in MESSAGE_CLASSES]


@pytest.fixture(scope="module")
def peer_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Generate betterproto2 classes for the whole contract into an importable package."""
    plugin = Path(sys.executable).parent / "protoc-gen-python_betterproto2"
    if not plugin.exists():
        pytest.fail(f"betterproto2's protoc plugin is not installed at {plugin}")
    root = tmp_path_factory.mktemp("peer")
    out = root / PEER_PACKAGE
    out.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        # The plugin formats its output with `ruff`, found on PATH: use this environment's.
        patch.setenv("PATH", f"{plugin.parent}{os.pathsep}{os.environ.get('PATH', '')}")
        run_protoc(
            SCHEMAS,
            proto_files(SCHEMAS),
            [
                f"--plugin=protoc-gen-python_betterproto2={plugin}",
                f"--python_betterproto2_out={out}",
            ],
        )
    sys.path.insert(0, str(root))
    try:
        yield PEER_PACKAGE
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.split(".")[0] == PEER_PACKAGE]:
            del sys.modules[name]


def _peer_class(peer_root: str, cls: type[Message]) -> Any:
    package = cls.DESCRIPTOR.file.package
    module: ModuleType = importlib.import_module(f"{peer_root}.{package}")
    return getattr(module, cls.DESCRIPTOR.name)


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_peer_decodes_what_protobuf_encodes(peer_root: str, cls: type[Message]) -> None:
    original = sample_message(cls)
    peer = _peer_class(peer_root, cls).parse(original.SerializeToString())
    assert cls.FromString(bytes(peer)) == original


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_protobuf_decodes_what_the_peer_encodes(peer_root: str, cls: type[Message]) -> None:
    original = sample_message(cls)
    document = json_format.MessageToDict(original, preserving_proto_field_name=True)
    peer = _peer_class(peer_root, cls).from_dict(document)
    assert cls.FromString(bytes(peer)) == original
