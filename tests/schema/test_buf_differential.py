"""Differential test: `nautilus schema compat --mode full` against `buf breaking`, per level.

Hundreds of generated changes of the contract (tests/schema/mutations.py: field numbers, names,
json_names, type pairs, cardinality, oneofs, presence, enums and their values, reservations,
deletions, renames, package moves, nested and map types; each forward and in reverse) are judged
by both tools at WIRE and WIRE_JSON. buf judges many changes per run (each under its own package
prefix in one pair of images) with both categories enabled, and the verdict per level comes from
the categories of the rules it reports. Every disagreement fails
the test unless its kind and level are in ALLOWED, where each entry says why the bus must differ;
an entry that no longer matches any disagreement fails too, so the list stays true and short.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from nautilus.cli.schema_release import buf_executable
from nautilus.codegen.compile import compile_descriptor_set
from nautilus.runtime.schema import CompatLevel, CompatMode, DescriptorSetError
from nautilus.runtime.schema.compat import compare_descriptor_sets_at

from .mutations import Mutation, generate_mutations

pytestmark = pytest.mark.slow

SNAPSHOT = Path(__file__).resolve().parents[1] / "contract" / "testdata" / "contract"
MINIMUM_MUTATIONS = 300
_BOTH = '{"version":"v2","breaking":{"use":["WIRE","WIRE_JSON"]}}'
#: Mutations per buf run (each under its own package prefix in one pair of images).
_BATCH = 60
_LEVELS = (CompatLevel.WIRE, CompatLevel.WIRE_JSON)

_DELETED = (
    "buf's WIRE and WIRE_JSON categories do not check deletions of types (only FILE and PACKAGE "
    "do); on the bus a deleted type is one that consumers can no longer decode, and entries "
    "carry the full type name, so a renamed or moved type is a deleted one"
)
_NOT_UTF8 = (
    "FULL mode protects old readers too: a new bytes writer may write bytes that are not UTF-8, "
    "which an old string reader rejects; buf judges string -> bytes by the new reader only"
)
_MAP_IS_REPEATED = (
    "a map is a repeated entry message on the wire, so a repeated message of the same shape "
    "reads the same bytes; buf compares the entry type's name"
)

#: (mutation kind, level) -> why the bus's verdict differs from buf's. Keep it short.
ALLOWED: dict[tuple[str, str], str] = {
    **{
        (kind, level): _DELETED
        for kind in (
            "message_deleted",
            "message_added/reverse",
            "message_renamed",
            "message_renamed/reverse",
        )
        for level in ("WIRE", "WIRE_JSON")
    },
    ("field_string_bytes", "WIRE"): _NOT_UTF8,
    ("nested_field_string_bytes", "WIRE"): _NOT_UTF8,
    ("map_to_repeated_message", "WIRE"): _MAP_IS_REPEATED,
}


@dataclass(frozen=True)
class Verdicts:
    ours: dict[str, bool]
    buf: dict[str, bool]
    buf_rules: tuple[str, ...]


@cache
def _rule_levels() -> dict[str, frozenset[str]]:
    """buf's rule id -> which of WIRE / WIRE_JSON it belongs to (from buf itself)."""
    done = subprocess.run(
        [buf_executable(), "config", "ls-breaking-rules", "--version", "v2", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    levels = {}
    for line in done.stdout.splitlines():
        rule = json.loads(line)
        levels[rule["id"]] = frozenset(rule["categories"]) & {"WIRE", "WIRE_JSON"}
    return levels


def _is_shared(file: descriptor_pb2.FileDescriptorProto) -> bool:
    """Files no mutation changes: google/protobuf and the routing options."""
    return file.name.startswith("google/") or file.package == "nautilus.bus.v1"


def _prefixed(
    fs: descriptor_pb2.FileDescriptorSet, prefix: str
) -> list[descriptor_pb2.FileDescriptorProto]:
    """The contract files of `fs` moved under `prefix/` and package `prefix.`, refs rewritten.

    Old and new of one mutation get the same prefix, so what buf compares is unchanged; many
    mutations then fit in one pair of images and one buf run.
    """
    shared = {f.name for f in fs.file if _is_shared(f)}
    out = []

    def rewrite(messages: object) -> None:
        for message in messages:  # type: ignore[attr-defined]
            for field in message.field:
                name = field.type_name
                if name.startswith(".nautilus.") and not name.startswith(".nautilus.bus."):
                    field.type_name = f".{prefix}{name}"
            rewrite(message.nested_type)

    for file in fs.file:
        if file.name in shared:
            continue
        copy = descriptor_pb2.FileDescriptorProto()
        copy.CopyFrom(file)
        copy.name = f"{prefix}/{file.name}"
        copy.package = f"{prefix}.{file.package}"
        for index, dependency in enumerate(copy.dependency):
            if dependency not in shared:
                copy.dependency[index] = f"{prefix}/{dependency}"
        rewrite(copy.message_type)
        out.append(copy)
    return out


def _batch_images(batch: list[tuple[int, Mutation]], root: Path, name: str) -> tuple[Path, Path]:
    sides = []
    for side in ("old", "new"):
        image = descriptor_pb2.FileDescriptorSet()
        image.file.extend(f for f in _base().file if _is_shared(f))
        for index, mutation in batch:
            image.file.extend(_prefixed(getattr(mutation, side), f"m{index}"))
        path = root / f"{name}-{side}.binpb"
        path.write_bytes(image.SerializeToString(deterministic=True))
        sides.append(path)
    return sides[0], sides[1]


def _buf(old: Path, new: Path) -> list[tuple[str, str]] | None:
    """(file path, rule id) of what buf reports for new against old; None if it cannot run."""
    done = subprocess.run(
        [
            *(buf_executable(), "breaking", str(new), "--against", str(old)),
            *("--config", _BOTH, "--error-format", "json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 100):
        return None
    return [(d["path"], d["type"]) for d in map(json.loads, done.stdout.splitlines())]


def _ours(mutation: Mutation) -> dict[str, bool] | None:
    """Our verdict per level (schemas only: no mutation touches the routing options, whose
    rules have their own testdata cases); None when a side is not a valid descriptor set."""
    try:
        found = compare_descriptor_sets_at(mutation.old, mutation.new, _LEVELS, CompatMode.FULL)
    except DescriptorSetError:
        return None
    return {level.value: bool(violations) for level, violations in found.items()}


@cache
def _base() -> descriptor_pb2.FileDescriptorSet:
    fs = compile_descriptor_set(SNAPSHOT)
    for file in fs.file:
        file.ClearField("source_code_info")
    return fs


def _buf_rules(batch: list[tuple[int, Mutation]], root: Path) -> dict[int, tuple[str, ...]]:
    """buf's rule ids per mutation of `batch`, from one buf run (or one per mutation if the
    batch as a whole is refused)."""
    old, new = _batch_images(batch, root, f"batch{batch[0][0]}")
    found = _buf(old, new)
    if found is None:
        if len(batch) == 1:
            return {}
        rules: dict[int, tuple[str, ...]] = {}
        for item in batch:
            rules.update(_buf_rules([item], root))
        return rules
    per: dict[int, list[str]] = {index: [] for index, _ in batch}
    for path, rule in found:
        per[int(path.split("/", 1)[0].removeprefix("m"))].append(rule)
    return {index: tuple(sorted(r)) for index, r in per.items()}


def _judged() -> Iterator[tuple[Mutation, Verdicts]]:
    levels = _rule_levels()
    ours = [(m, _ours(m)) for m in generate_mutations(_base())]
    valid = [(i, m) for i, (m, verdict) in enumerate(ours) if verdict is not None]
    with tempfile.TemporaryDirectory() as tmp:
        batches = [valid[i : i + _BATCH] for i in range(0, len(valid), _BATCH)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda b: _buf_rules(b, Path(tmp)), batches)
            buf_rules = {k: v for result in results for k, v in result.items()}
    for index, mutation in valid:
        verdict = ours[index][1]
        if index not in buf_rules or verdict is None:
            continue
        rules = buf_rules[index]
        buf = {level: any(level in levels.get(r, ()) for r in rules) for level in verdict}
        yield mutation, Verdicts(verdict, buf, rules)


def _base_kind(kind: str) -> str:
    return kind.removesuffix("/reverse")


def test_nautilus_compat_agrees_with_buf_breaking_on_generated_changes() -> None:
    judged = list(_judged())
    kinds = Counter(_base_kind(m.kind) for m, _ in judged)
    disagreements: list[str] = []
    used: set[tuple[str, str]] = set()
    for mutation, verdicts in judged:
        for level, ours in verdicts.ours.items():
            if ours == verdicts.buf[level]:
                continue
            key = (mutation.kind, level)
            if key in ALLOWED:
                used.add(key)
                continue
            disagreements.append(
                f"{mutation.kind} at {level}: ours {'breaking' if ours else 'compatible'}, "
                f"buf {verdicts.buf_rules or 'compatible'}: {mutation.detail}"
            )

    print(f"\n{len(judged)} mutations judged by both tools; kinds: {dict(sorted(kinds.items()))}")
    for (kind, level), reason in ALLOWED.items():
        print(f"allowed: {kind} at {level}: {reason}")
    assert len(judged) >= MINIMUM_MUTATIONS, f"only {len(judged)} valid mutations"
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(
        sorted(disagreements)
    )
    assert set(ALLOWED) <= used, f"allowlist entries that match nothing: {set(ALLOWED) - used}"
