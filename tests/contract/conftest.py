"""Fixtures for tests that compile edited copies of the contract."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from nautilus.codegen import ContractModel, compile_descriptor_set, parse_contract

#: A frozen copy of the contract that tests edit, so that editing the real schemas never breaks
#: them (testdata/contract/README.md).
SNAPSHOT = Path(__file__).resolve().parent / "testdata" / "contract"

EditSchema = Callable[[str, str, str], None]


@pytest.fixture
def schema_copy(tmp_path: Path) -> Path:
    """A private copy of the frozen contract snapshot that a test may edit."""
    target = tmp_path / "schemas"
    shutil.copytree(SNAPSHOT, target, ignore=shutil.ignore_patterns("*.binpb", "*.md"))
    return target


@pytest.fixture
def edit_schema(schema_copy: Path) -> EditSchema:
    """Replace one exact snippet in a schema file of the copy; fails if the snippet is absent."""

    def edit(relative: str, old: str, new: str) -> None:
        path = schema_copy / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    return edit


@pytest.fixture
def compile_copy(schema_copy: Path) -> Callable[[], ContractModel]:
    return lambda: parse_contract(compile_descriptor_set(schema_copy))
