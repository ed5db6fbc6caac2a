"""`nautilus schema compat OLD NEW`: is a contract change safe for readers and writers on the bus?

(`nautilus schema list|show|register`, the registry on the server, are in schema_registry_actions.)

CI runs it against the committed baseline image (`nautilus schema compat schemas/baseline.binpb
schemas`). Exit status: 0 compatible, 1 breaking (one line per violation on stdout), 2 the inputs
could not be read or compiled (reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

from nautilus.cli.schema_registry_actions import add_registry_actions
from nautilus.cli.schema_release import add_release_actions
from nautilus.codegen.compile import CodegenError, compile_descriptor_set
from nautilus.runtime.schema import (
    CompatLevel,
    CompatMode,
    DescriptorSetError,
    Violation,
    compare_contracts,
    parse_descriptor_set,
)

__all__ = [
    "EXIT_BREAKING",
    "EXIT_COMPATIBLE",
    "EXIT_ERROR",
    "SchemaInputError",
    "breaking_changes",
    "breaking_lines",
    "load_contract",
    "main_compat",
    "register",
    "violation_json",
]

EXIT_COMPATIBLE = 0
EXIT_BREAKING = 1
EXIT_ERROR = 2

_MODES = {"backward": CompatMode.BACKWARD, "forward": CompatMode.FORWARD, "full": CompatMode.FULL}
_LEVELS = {"wire": CompatLevel.WIRE, "wire_json": CompatLevel.WIRE_JSON}


class SchemaInputError(Exception):
    """OLD or NEW could not be turned into a descriptor set."""


def load_contract(path: Path) -> descriptor_pb2.FileDescriptorSet:
    """A contract from a buf module root (compiled in-process) or a binary descriptor-set file."""
    if path.is_dir():
        try:
            return compile_descriptor_set(path)
        except CodegenError as exc:
            raise SchemaInputError(str(exc)) from exc
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return parse_descriptor_set(data, source=str(path))
    except DescriptorSetError as exc:
        raise SchemaInputError(str(exc)) from exc


def breaking_changes(old_path: Path, new_path: Path, *, mode: str, level: str) -> list[Violation]:
    """The breaking changes from contract `old_path` to `new_path`.

    Raises SchemaInputError when either cannot be read.
    """
    old, new = load_contract(old_path), load_contract(new_path)
    try:
        return list(compare_contracts(old, new, _LEVELS[level], _MODES[mode]))
    except DescriptorSetError as exc:
        raise SchemaInputError(str(exc)) from exc


def breaking_lines(old_path: Path, new_path: Path, *, mode: str, level: str) -> list[str]:
    """One line per breaking change from contract `old_path` to `new_path`."""
    return [str(v) for v in breaking_changes(old_path, new_path, mode=mode, level=level)]


def violation_json(violation: Violation) -> dict[str, str]:
    """A breaking change as data: where, which rule, and the element before and after."""
    return {
        "location": violation.location,
        "type": violation.type,
        "field": violation.field,
        "rule": str(violation.rule),
        "message": violation.message,
        "old": violation.old,
        "new": violation.new,
    }


def main_compat(
    old_path: Path, new_path: Path, *, mode: str, level: str, as_json: bool = False
) -> int:
    """`nautilus schema compat`: print the verdict; return the exit status."""
    try:
        violations = breaking_changes(old_path, new_path, mode=mode, level=level)
    except SchemaInputError as exc:
        print(f"nautilus schema compat: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if as_json:
        document = {
            "old": str(old_path),
            "new": str(new_path),
            "mode": mode,
            "level": level,
            "compatible": not violations,
            "violations": [violation_json(v) for v in violations],
        }
        print(json.dumps(document, indent=2))
        return EXIT_BREAKING if violations else EXIT_COMPATIBLE
    for violation in violations:
        print(violation)
    checked = f"{new_path} against {old_path} ({level}, {mode})"
    if violations:
        count = len(violations)
        noun = "change" if count == 1 else "changes"
        print(f"{count} breaking {noun}: {checked}", file=sys.stderr)
        return EXIT_BREAKING
    print(f"compatible: {checked}", file=sys.stderr)
    return EXIT_COMPATIBLE


def _run(args: Any) -> int:
    return main_compat(
        Path(args.old), Path(args.new), mode=args.mode, level=args.level, as_json=args.json
    )


def register(commands: Any) -> None:
    schema: argparse.ArgumentParser = commands.add_parser(
        "schema", help="schema tools: compatibility between contract versions, the registry"
    )
    actions = schema.add_subparsers(dest="schema_command", required=True, metavar="ACTION")
    add_registry_actions(actions)
    add_release_actions(actions)
    compat: argparse.ArgumentParser = actions.add_parser(
        "compat",
        help="check that NEW is compatible with OLD",
        description=(
            "Check that contract NEW can replace contract OLD. Each is a directory of .proto "
            "files (a buf module root, compiled in-process) or a binary FileDescriptorSet file "
            "(`buf build -o x.binpb`, `protoc --include_imports --descriptor_set_out`). Messages "
            "and enums are matched by full name; deleting, renaming or moving one to another "
            "package breaks, adding new ones does not. Exit status: 0 compatible, 1 breaking "
            "(one line per violation on stdout), 2 unreadable input."
        ),
    )
    compat.add_argument("old", metavar="OLD", help="the released contract (baseline)")
    compat.add_argument("new", metavar="NEW", help="the candidate contract")
    compat.add_argument(
        "--level",
        choices=sorted(_LEVELS),
        default="wire_json",
        help=(
            "wire: binary protobuf compatibility only; wire_json (default, because the contract "
            "has a JSON edge): also field names, JSON names and enum value names"
        ),
    )
    compat.add_argument(
        "--mode",
        choices=sorted(_MODES),
        default="full",
        help=(
            "full (default, the bus's mode: producers and consumers upgrade in any order): both "
            "directions; backward: new readers read old data; forward: old readers read new data"
        ),
    )
    compat.add_argument(
        "--json", action="store_true", help="the verdict and every violation as one JSON document"
    )
    compat.set_defaults(handler=_run)
