"""What a compatibility check reports: stable rule ids, violations, and the error for refusers.

Rule ids are part of the public contract (CI output, registry errors, testdata), so they never get
renamed; a new situation gets a new id.

| rule                            | levels          | direction                                 |
|---------------------------------|-----------------|-------------------------------------------|
| MESSAGE_REMOVED                 | WIRE, WIRE_JSON | history (old type absent from the new set)|
| ENUM_REMOVED                    | WIRE, WIRE_JSON | history                                   |
| FIELD_REMOVED_NOT_RESERVED      | WIRE, WIRE_JSON | history (number; at WIRE_JSON also name)  |
| FIELD_RESERVED_REUSED           | WIRE, WIRE_JSON | history (number; at WIRE_JSON also name)  |
| FIELD_NUMBER_CHANGED            | WIRE, WIRE_JSON | symmetric                                 |
| FIELD_NAME_CHANGED              | WIRE_JSON       | reader must accept the writer's name      |
| FIELD_JSON_NAME_CHANGED         | WIRE_JSON       | reader must accept the writer's JSON name |
| FIELD_TYPE_CHANGED              | WIRE, WIRE_JSON | symmetric                                 |
| FIELD_JSON_TYPE_CHANGED         | WIRE_JSON       | symmetric (wire-safe, JSON form changes)  |
| FIELD_MESSAGE_BYTES_CHANGED     | WIRE, WIRE_JSON | symmetric                                 |
| FIELD_MESSAGE_TYPE_CHANGED      | WIRE_JSON       | symmetric (to or from a well-known type)  |
| FIELD_CARDINALITY_CHANGED       | WIRE, WIRE_JSON | WIRE: singular reader of repeated data    |
| FIELD_ONEOF_CHANGED             | WIRE, WIRE_JSON | symmetric                                 |
| ENUM_VALUE_REMOVED_NOT_RESERVED | WIRE, WIRE_JSON | history (number; at WIRE_JSON also name)  |
| ENUM_VALUE_RESERVED_REUSED      | WIRE, WIRE_JSON | history (number; at WIRE_JSON also name)  |
| RESERVED_REMOVED                | WIRE, WIRE_JSON | history (a reserved number or name dropped)|
| ENUM_VALUE_NUMBER_CHANGED       | WIRE, WIRE_JSON | symmetric                                 |
| ENUM_VALUE_NAME_CHANGED         | WIRE_JSON       | reader must know the writer's value name  |
| ENUM_VALUE_NOT_IN_CLOSED_ENUM   | WIRE, WIRE_JSON | closed (proto2) reader lacks a value      |
| ROUTE_REMOVED                   | routes          | a routed type loses its route             |
| ROUTE_STREAM_CHANGED            | routes          | consumers read the old stream             |
| ROUTE_PRODUCER_CHANGED          | routes          | consumers accept only the route's producer|
| ROUTE_CONSUMER_REMOVED          | routes          | the removed engine stops receiving it     |
| ROUTE_LANE_CHANGED              | routes          | default priority moves bulk <-> priority  |
| ROUTE_PARTITIONS_CHANGED        | routes          | the stream's entries move to other keys   |

Route rules ("routes") compare the `(nautilus.bus.v1.route)` options of the two contracts
(`route_compat`); they apply to whole contracts, not to one type's registered versions.

"history" rules judge the edit from the older schema to the newer one whatever the mode, because
they protect future versions (a number that is neither used nor reserved will be reused).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Rule", "SchemaIncompatibleError", "Violation", "unique_violations"]


class Rule(StrEnum):
    """Stable identifiers of the compatibility rules (see the module table)."""

    MESSAGE_REMOVED = "MESSAGE_REMOVED"
    ENUM_REMOVED = "ENUM_REMOVED"
    FIELD_REMOVED_NOT_RESERVED = "FIELD_REMOVED_NOT_RESERVED"
    FIELD_RESERVED_REUSED = "FIELD_RESERVED_REUSED"
    FIELD_NUMBER_CHANGED = "FIELD_NUMBER_CHANGED"
    FIELD_NAME_CHANGED = "FIELD_NAME_CHANGED"
    FIELD_JSON_NAME_CHANGED = "FIELD_JSON_NAME_CHANGED"
    FIELD_TYPE_CHANGED = "FIELD_TYPE_CHANGED"
    FIELD_JSON_TYPE_CHANGED = "FIELD_JSON_TYPE_CHANGED"
    FIELD_MESSAGE_BYTES_CHANGED = "FIELD_MESSAGE_BYTES_CHANGED"
    FIELD_MESSAGE_TYPE_CHANGED = "FIELD_MESSAGE_TYPE_CHANGED"
    FIELD_CARDINALITY_CHANGED = "FIELD_CARDINALITY_CHANGED"
    FIELD_ONEOF_CHANGED = "FIELD_ONEOF_CHANGED"
    ENUM_VALUE_REMOVED_NOT_RESERVED = "ENUM_VALUE_REMOVED_NOT_RESERVED"
    ENUM_VALUE_RESERVED_REUSED = "ENUM_VALUE_RESERVED_REUSED"
    RESERVED_REMOVED = "RESERVED_REMOVED"
    ENUM_VALUE_NUMBER_CHANGED = "ENUM_VALUE_NUMBER_CHANGED"
    ENUM_VALUE_NAME_CHANGED = "ENUM_VALUE_NAME_CHANGED"
    ENUM_VALUE_NOT_IN_CLOSED_ENUM = "ENUM_VALUE_NOT_IN_CLOSED_ENUM"
    ROUTE_REMOVED = "ROUTE_REMOVED"
    ROUTE_STREAM_CHANGED = "ROUTE_STREAM_CHANGED"
    ROUTE_PRODUCER_CHANGED = "ROUTE_PRODUCER_CHANGED"
    ROUTE_CONSUMER_REMOVED = "ROUTE_CONSUMER_REMOVED"
    ROUTE_LANE_CHANGED = "ROUTE_LANE_CHANGED"
    ROUTE_PARTITIONS_CHANGED = "ROUTE_PARTITIONS_CHANGED"


@dataclass(frozen=True, slots=True)
class Violation:
    """One change that breaks compatibility.

    `type` is the full name of the message or enum that was checked; `field` is the path inside it,
    starting with that type's own name and following field names through referenced messages
    (`ToxicityAlert.vpin`, `ToxicityAlert.severity.SEVERITY_INFO`). Paths use the old schema's
    names. `old` and `new` describe the element before and after the change (empty when it does
    not exist on that side), always in history order, whichever direction the rule protects.
    """

    type: str
    field: str
    old: str
    new: str
    rule: Rule
    message: str

    @property
    def location(self) -> str:
        """The changed element's qualified path, e.g. `nautilus.vpin.v1.ToxicityAlert.vpin`."""
        scope = self.type.rpartition(".")[0]
        return f"{scope}.{self.field}" if scope else self.field

    def __str__(self) -> str:
        return f"{self.location}: {self.rule}: {self.message}"


def unique_violations(violations: Iterable[Violation]) -> list[Violation]:
    """`violations` without repeats, in first-seen order.

    Symmetric rules fire once per direction and transitive checks once per past version; the same
    finding is reported once.
    """
    return list(dict.fromkeys(violations))


class SchemaIncompatibleError(Exception):
    """A schema was refused because it breaks compatibility with what is already registered."""

    def __init__(self, type_name: str, violations: Sequence[Violation]) -> None:
        self.type_name = type_name
        self.violations = tuple(violations)
        lines = "\n".join(f"  {v}" for v in self.violations)
        count = len(self.violations)
        noun = "change" if count == 1 else "changes"
        super().__init__(f"{type_name}: {count} incompatible {noun}:\n{lines}")
