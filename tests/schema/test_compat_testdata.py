"""The rule table as data: each folder under testdata/compat is a case with old/ and new/ schemas
and expected.json listing verdicts (level, mode, compatible, rule ids). One test walks them all,
through `compare_contracts`: schemas and routes."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from nautilus.codegen.compile import compile_descriptor_set
from nautilus.runtime.schema import CompatLevel, CompatMode, Rule, compare_contracts

CASES = Path(__file__).parent / "testdata" / "compat"


@dataclass(frozen=True)
class Verdict:
    case: str
    level: CompatLevel
    mode: CompatMode
    compatible: bool
    rules: tuple[str, ...]


def _verdicts() -> list[Verdict]:
    verdicts = []
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        expected = json.loads((case / "expected.json").read_text())
        for item in expected["verdicts"]:
            verdicts.append(
                Verdict(
                    case=case.name,
                    level=CompatLevel[item["level"].upper()],
                    mode=CompatMode[item["mode"].upper()],
                    compatible=item["compatible"],
                    rules=tuple(sorted(item["rules"])),
                )
            )
    return verdicts


VERDICTS = _verdicts()


@functools.cache
def _compiled(root: Path) -> descriptor_pb2.FileDescriptorSet:
    return compile_descriptor_set(root)


@pytest.mark.parametrize(
    "verdict", VERDICTS, ids=[f"{v.case}-{v.level.lower()}-{v.mode.lower()}" for v in VERDICTS]
)
def test_case_verdict(verdict: Verdict) -> None:
    old = _compiled(CASES / verdict.case / "old")
    new = _compiled(CASES / verdict.case / "new")

    violations = compare_contracts(old, new, verdict.level, verdict.mode)

    report = "\n".join(str(v) for v in violations) or "(no violations)"
    assert tuple(sorted(v.rule for v in violations)) == verdict.rules, report
    assert (not violations) is verdict.compatible, report


def test_every_rule_has_a_breaking_case() -> None:
    covered = {rule for verdict in VERDICTS for rule in verdict.rules}

    assert covered == set(Rule)
