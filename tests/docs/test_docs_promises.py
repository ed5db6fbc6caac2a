"""Docs as executable specification: every promise of docs/wire-format.md and
docs/operations.md (each table row, rule, bullet and paragraph, see doc_promises.py) is checked by
a test listed in promise_map.py, and every listed test exists. A new or reworded promise fails
here until its tests are listed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.docs.doc_promises import DOCS, Promise, promises
from tests.docs.promise_map import KNOWN_GAPS, NOT_PROMISES, PROMISE_TESTS

ROOT = Path(__file__).resolve().parents[2]


def _all_promises() -> list[Promise]:
    return [promise for doc in DOCS for promise in promises(doc)]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_the_docs_have_promises_to_check() -> None:
    found = _all_promises()
    assert len(found) > 50
    assert any(p.id == "wire-format#dead-letter-entries/dl.reason" for p in found)
    assert any(p.id == "operations#commands/nautilus trim" for p in found)


def test_promise_ids_are_unique() -> None:
    ids = [promise.id for promise in _all_promises()]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_every_promise_has_a_test() -> None:
    missing = [
        f"{p.id}\n    {p.text}"
        for p in _all_promises()
        if not PROMISE_TESTS.get(p.id) and p.id not in NOT_PROMISES and p.id not in KNOWN_GAPS
    ]
    assert not missing, (
        "promises of the docs without a test; list the tests that check each in "
        "tests/docs/promise_map.py (or, for a paragraph that promises nothing, in NOT_PROMISES):\n"
        + "\n".join(missing)
    )


def test_the_map_lists_no_promise_the_docs_no_longer_make() -> None:
    current = {promise.id for promise in _all_promises()}
    stale = sorted((set(PROMISE_TESTS) | set(NOT_PROMISES) | set(KNOWN_GAPS)) - current)
    assert not stale, f"ids in tests/docs/promise_map.py that no doc has any more: {stale}"


@pytest.mark.parametrize("promise_id", sorted(PROMISE_TESTS))
def test_every_listed_test_exists(promise_id: str) -> None:
    for reference in PROMISE_TESTS[promise_id]:
        file, _, name = reference.partition("::")
        path = ROOT / file
        assert path.is_file(), f"{promise_id}: no test file {file}"
        if name:
            assert name in _test_names(path), f"{promise_id}: no test {name} in {file}"


def test_known_gaps_are_few_and_not_also_mapped() -> None:
    assert len(KNOWN_GAPS) <= 3
    assert not set(KNOWN_GAPS) & set(PROMISE_TESTS)
