"""Schema versions of `Quote` made by editing a copy of the real contract and compiling it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from nautilus.codegen.compile import compile_descriptor_set
from nautilus.runtime.schema import build_pool

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
MARKETDATA = "nautilus/marketdata/v1/marketdata.proto"
QUOTE = "nautilus.marketdata.v1.Quote"
QUOTE_END = "  uint64 ts_init = 7;\n}"

QuoteVersion = Callable[..., Descriptor]


def quote_class(descriptor: Descriptor) -> type[Message]:
    """A message class for a Quote version compiled outside the generated code."""
    cls: type[Message] = message_factory.GetMessageClass(descriptor)
    return cls


@pytest.fixture
def quote_version(tmp_path: Path) -> QuoteVersion:
    """Compile a version of Quote: `append` adds lines to its body, `replace` swaps one snippet."""
    counter = iter(range(1_000))

    def build(append: str = "", replace: tuple[str, str] | None = None) -> Descriptor:
        root = tmp_path / f"schemas-{next(counter)}"
        shutil.copytree(SCHEMAS, root, ignore=shutil.ignore_patterns("*.binpb"))
        path = root / MARKETDATA
        text = path.read_text()
        start = text.index("message Quote {")
        end = text.index(QUOTE_END, start)
        body = text[start:end]
        if replace is not None:
            assert replace[0] in body, replace[0]
            body = body.replace(replace[0], replace[1], 1)
        tail = QUOTE_END if not append else f"  uint64 ts_init = 7;\n{append}\n}}"
        path.write_text(text[:start] + body + tail + text[end + len(QUOTE_END) :])
        descriptor: Descriptor = build_pool(compile_descriptor_set(root)).FindMessageTypeByName(
            QUOTE
        )
        return descriptor

    return build
