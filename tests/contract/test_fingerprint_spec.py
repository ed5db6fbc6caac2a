"""The fingerprint as docs/schema-registry.md specifies it: its test vectors hold."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from nautilus.codegen.compile import compile_descriptor_set
from nautilus.runtime.schema import build_pool, canonical_form, fingerprint

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).resolve().parent / "testdata" / "contract"
DOC = ROOT / "docs" / "schema-registry.md"
VECTOR = re.compile(r"#### `([\w.]+)` → `([0-9a-f]{16})`\n\n```json\n(.+?)\n```")

VECTORS = VECTOR.findall(DOC.read_text())


def test_the_doc_has_at_least_five_vectors() -> None:
    assert len(VECTORS) >= 5


@pytest.mark.parametrize(("type_name", "expected", "text"), VECTORS, ids=[v[0] for v in VECTORS])
def test_a_vector_is_what_the_implementation_computes(
    type_name: str, expected: str, text: str
) -> None:
    descriptor = build_pool(compile_descriptor_set(SNAPSHOT)).FindMessageTypeByName(type_name)

    assert json.dumps(canonical_form(descriptor), sort_keys=True, separators=(",", ":")) == text
    assert fingerprint(descriptor) == expected


@pytest.mark.parametrize(("type_name", "expected", "text"), VECTORS, ids=[v[0] for v in VECTORS])
def test_a_vector_hashes_as_specified(type_name: str, expected: str, text: str) -> None:
    document = json.loads(text)

    assert document["root"] == type_name
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == expected


def test_the_docs_say_the_declared_type_is_hashed_not_the_wire_type() -> None:
    for doc in (DOC, ROOT / "README.md", ROOT / "docs" / "wire-format.md"):
        assert "wire types" not in doc.read_text(), doc
    assert "declared types" in DOC.read_text()
