"""Schema compatibility: can readers and writers on different versions of a message still talk?

Three entry points, from small to large:

- `check_compatibility(old, new)`: one message type, two versions, one mode's direction(s),
  recursing into every message and enum it references (structurally, whatever their names).
- `check_mode(versions, candidate, mode)`: what a schema registry asks before accepting a new
  version: the candidate against the latest registered version, or against all of them for the
  _TRANSITIVE modes. `require_compatible` raises `SchemaIncompatibleError` instead.
- `compare_descriptor_sets(old, new)`: a whole contract against a baseline, for CI. Types are
  matched by full name; an old type missing from the new set (deleted, renamed, moved to another
  package such as v1 -> v2) is MESSAGE_REMOVED / ENUM_REMOVED; types only in the new set are fine.
  google/protobuf files are not part of the contract and are skipped.

Everything runs in-process on descriptors; no protoc, buf or network is involved.

Decisions a reader should know (the rule table itself is in `rules` and `type_rules`):

- A field whose message type changes to another full name is compared structurally: the wire and
  the JSON form carry no type names, so an identical shape under a new name is compatible, and any
  difference is reported at the inner field's path. The exception is a move to or from a
  google.protobuf type at WIRE_JSON (FIELD_MESSAGE_TYPE_CHANGED), since those have special JSON.
- Presence changes (proto3 `optional` added or removed) are compatible: the value decodes the
  same and only the has-bit's availability differs. Packed <-> unpacked is compatible too.
- Unknown data is tolerated: readers skip unknown fields and keep unknown numbers of open enums.
  For the JSON edge this assumes readers parse with unknown names ignored (protobuf's
  `ignore_unknown_fields`); without that, no added field or enum value would ever be compatible.
- string -> bytes passes at WIRE for the reader of bytes; a string reader of bytes data breaks
  (bytes need not be UTF-8), and at WIRE_JSON both directions break (base64 versus text).
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor

from nautilus.runtime.schema.descriptor_sets import DescriptorSetError, build_pool, iter_types
from nautilus.runtime.schema.fingerprint import MessageDescriptor
from nautilus.runtime.schema.modes import DEFAULT_LEVEL, DEFAULT_MODE, CompatLevel, CompatMode
from nautilus.runtime.schema.route_compat import compare_routes
from nautilus.runtime.schema.rules import PairComparison, is_well_known
from nautilus.runtime.schema.violations import (
    Rule,
    SchemaIncompatibleError,
    Violation,
    unique_violations,
)

__all__ = [
    "MessageDescriptor",
    "check_compatibility",
    "check_mode",
    "compare_contracts",
    "compare_descriptor_sets",
    "compare_descriptor_sets_at",
    "require_compatible",
]


def _message(descriptor: MessageDescriptor) -> Descriptor:
    if not isinstance(descriptor, Descriptor):
        raise TypeError(f"expected a message Descriptor, got {type(descriptor).__name__}")
    return descriptor


def _reading_directions(mode: CompatMode) -> list[bool]:
    """`reader_is_new` for each direction `mode` protects."""
    directions = []
    if mode.checks_backward:
        directions.append(True)
    if mode.checks_forward:
        directions.append(False)
    return directions


def _compare_types(
    old: Descriptor | EnumDescriptor,
    new: Descriptor | EnumDescriptor,
    level: CompatLevel,
    mode: CompatMode,
    *,
    follow_same_name: bool,
) -> list[Violation]:
    found: list[Violation] = []
    for reader_is_new in _reading_directions(mode):
        comparison = PairComparison(
            root_type=old.full_name,
            level=level,
            reader_is_new=reader_is_new,
            follow_same_name=follow_same_name,
        )
        if isinstance(old, Descriptor) and isinstance(new, Descriptor):
            comparison.compare_messages(old, new, old.name)
        elif isinstance(old, EnumDescriptor) and isinstance(new, EnumDescriptor):
            comparison.compare_enums(old, new, old.name)
        found.extend(comparison.violations)
    return unique_violations(found)


def check_compatibility(
    old: MessageDescriptor,
    new: MessageDescriptor,
    level: CompatLevel = DEFAULT_LEVEL,
    mode: CompatMode = CompatMode.BACKWARD,
) -> list[Violation]:
    """Why `new` cannot replace `old` under `mode` at `level`; empty when it can.

    Only the direction of `mode` matters here (a _TRANSITIVE mode acts like its plain form, since
    there is one old version); NONE finds nothing. Violations name `old`'s full name as their type
    and use paths from it, e.g. `ToxicityAlert.severity.SEVERITY_INFO` for a value of a referenced
    enum.
    """
    return _compare_types(_message(old), _message(new), level, mode, follow_same_name=True)


def check_mode(
    versions: Sequence[MessageDescriptor],
    candidate: MessageDescriptor,
    mode: CompatMode = DEFAULT_MODE,
    level: CompatLevel = DEFAULT_LEVEL,
) -> list[Violation]:
    """Why `candidate` may not follow `versions` (oldest first) under `mode`; empty when it may.

    The first version of a type (no `versions`) is always accepted. A finding that holds against
    several past versions is reported once.
    """
    if mode is CompatMode.NONE or not versions:
        return []
    against = versions if mode.transitive else versions[-1:]
    found: list[Violation] = []
    for version in against:
        found.extend(check_compatibility(version, candidate, level, mode))
    return unique_violations(found)


def require_compatible(
    versions: Sequence[MessageDescriptor],
    candidate: MessageDescriptor,
    mode: CompatMode = DEFAULT_MODE,
    level: CompatLevel = DEFAULT_LEVEL,
) -> None:
    """Like `check_mode`, for callers that refuse: raises SchemaIncompatibleError on violations."""
    violations = check_mode(versions, candidate, mode, level)
    if violations:
        raise SchemaIncompatibleError(candidate.full_name, violations)


def _removed(old: Descriptor | EnumDescriptor, successors: dict[str, str]) -> Violation:
    is_message = isinstance(old, Descriptor)
    kind = "message" if is_message else "enum"
    reason = "readers on the new contract do not know it"
    successor = successors.get(old.name)
    if successor is not None:
        reason = f"{successor} is a different type to readers (renamed or moved?)"
    return Violation(
        type=old.full_name,
        field=old.name,
        old=old.full_name,
        new="",
        rule=Rule.MESSAGE_REMOVED if is_message else Rule.ENUM_REMOVED,
        message=f"{kind} {old.full_name} -> (absent): {reason}",
    )


def compare_descriptor_sets(
    old: descriptor_pb2.FileDescriptorSet,
    new: descriptor_pb2.FileDescriptorSet,
    level: CompatLevel = DEFAULT_LEVEL,
    mode: CompatMode = CompatMode.BACKWARD,
) -> list[Violation]:
    """Why contract `new` cannot replace contract `old`; empty when it can.

    Each message and enum of `old` is compared once with its namesake in `new` (fields referring to
    a type of the same name are not re-walked; that type is reported on its own). Violations are
    sorted by location, then rule. Raises DescriptorSetError when a set is inconsistent.
    """
    return compare_descriptor_sets_at(old, new, (level,), mode)[level]


def compare_descriptor_sets_at(
    old: descriptor_pb2.FileDescriptorSet,
    new: descriptor_pb2.FileDescriptorSet,
    levels: Sequence[CompatLevel],
    mode: CompatMode = CompatMode.BACKWARD,
) -> dict[CompatLevel, list[Violation]]:
    """`compare_descriptor_sets` at several levels, building each set's descriptors once."""
    if mode is CompatMode.NONE:
        return {level: [] for level in levels}
    old_types = {t.full_name: t for t in iter_types(old, build_pool(old)) if not is_well_known(t)}
    new_types = {t.full_name: t for t in iter_types(new, build_pool(new))}
    # A type that only the new set has, under an old type's short name, is likely its successor.
    successors = {t.name: t.full_name for t in new_types.values() if t.full_name not in old_types}
    result = {}
    for level in levels:
        found: list[Violation] = []
        for name, old_type in sorted(old_types.items()):
            new_type = new_types.get(name)
            if new_type is None or isinstance(new_type, Descriptor) != isinstance(
                old_type, Descriptor
            ):
                found.append(_removed(old_type, successors))
                continue
            found.extend(_compare_types(old_type, new_type, level, mode, follow_same_name=False))
        result[level] = sorted(unique_violations(found), key=lambda v: (v.location, v.rule))
    return result


def _route_violations(
    old: descriptor_pb2.FileDescriptorSet, new: descriptor_pb2.FileDescriptorSet
) -> list[Violation]:
    # Imported here: route_options reads descriptor sets through this package.
    from nautilus.runtime.route_options import RouteOptionsError, read_route_options

    try:
        old_routes = read_route_options(old)
    except RouteOptionsError:
        return []  # not a bus contract (no routing options): nothing to compare
    try:
        new_routes = read_route_options(new)
    except RouteOptionsError as exc:
        raise DescriptorSetError(f"the new contract's routes cannot be read: {exc}") from exc
    declared = {t.full_name for t in iter_types(new, build_pool(new)) if isinstance(t, Descriptor)}
    return compare_routes(old_routes, new_routes, declared)


def compare_contracts(
    old: descriptor_pb2.FileDescriptorSet,
    new: descriptor_pb2.FileDescriptorSet,
    level: CompatLevel = DEFAULT_LEVEL,
    mode: CompatMode = CompatMode.FULL,
) -> list[Violation]:
    """`compare_descriptor_sets` plus the routes: what CI and `nautilus schema compat` report.

    Route changes break in every mode but NONE: a consumer that stops receiving a type, or a
    stream nobody reads any more, breaks whichever side upgrades first.
    """
    if mode is CompatMode.NONE:
        return []
    found = compare_descriptor_sets(old, new, level, mode) + _route_violations(old, new)
    return sorted(found, key=lambda v: (v.location, v.rule))
