"""check_compatibility on one message type: what a violation says and where it points."""

from __future__ import annotations

from nautilus.runtime.schema import (
    CompatLevel,
    CompatMode,
    Rule,
    Violation,
    check_compatibility,
)
from nautilus.vpin.v1 import vpin_pb2

from .conftest import LoadMessage

ALERT = "nautilus.vpin.v1.ToxicityAlert"


def alert(vpin_type: str = "double", severity_values: str = "SEVERITY_INFO = 1;") -> str:
    return f"""
        syntax = "proto3";
        package nautilus.vpin.v1;
        enum Severity {{
          SEVERITY_UNSPECIFIED = 0;
          {severity_values}
          SEVERITY_CRITICAL = 3;
        }}
        message ToxicityAlert {{
          string instrument_id = 1;
          {vpin_type} vpin = 2;
          Severity severity = 5;
        }}
    """


def test_violation_names_the_root_type_field_path_and_both_sides(load_message: LoadMessage) -> None:
    old = load_message(alert(), ALERT)
    new = load_message(alert(vpin_type="string"), ALERT)

    [violation] = check_compatibility(old, new, CompatLevel.WIRE)

    assert violation == Violation(
        type=ALERT,
        field="ToxicityAlert.vpin",
        old="double",
        new="string",
        rule=Rule.FIELD_TYPE_CHANGED,
        message="double -> string: the encodings differ, so readers skip or misread the value",
    )
    assert violation.location == "nautilus.vpin.v1.ToxicityAlert.vpin"
    assert (
        str(violation)
        == f"nautilus.vpin.v1.ToxicityAlert.vpin: FIELD_TYPE_CHANGED: {violation.message}"
    )


def test_referenced_enum_changes_are_reported_under_the_root_path(
    load_message: LoadMessage,
) -> None:
    old = load_message(alert(), ALERT)
    new = load_message(alert(severity_values=""), ALERT)

    violations = check_compatibility(old, new, CompatLevel.WIRE)

    assert [(v.type, v.field, v.rule) for v in violations] == [
        (ALERT, "ToxicityAlert.severity.SEVERITY_INFO", Rule.ENUM_VALUE_REMOVED_NOT_RESERVED)
    ]


def test_recursive_messages_are_compared_once(load_message: LoadMessage) -> None:
    source = """
        syntax = "proto3";
        package nautilus.strategy.v1;
        message OrderTree {{
          string order_id = 1;
          repeated OrderTree children = 2;
          {quantity} quantity = 3;
        }}
    """
    old = load_message(source.format(quantity="int64"), "nautilus.strategy.v1.OrderTree")
    new = load_message(source.format(quantity="double"), "nautilus.strategy.v1.OrderTree")

    violations = check_compatibility(old, new, CompatLevel.WIRE, CompatMode.FULL)

    assert [(v.field, v.rule) for v in violations] == [
        ("OrderTree.quantity", Rule.FIELD_TYPE_CHANGED)
    ]


def test_generated_class_descriptors_compare_with_compiled_ones(load_message: LoadMessage) -> None:
    released = vpin_pb2.ToxicityAlert.DESCRIPTOR
    shrunk = load_message(alert(), ALERT)

    violations = check_compatibility(released, shrunk, CompatLevel.WIRE)

    found = {(v.field, v.rule) for v in violations}
    assert ("ToxicityAlert.vpin_cdf", Rule.FIELD_REMOVED_NOT_RESERVED) in found
    assert (
        "ToxicityAlert.severity.SEVERITY_WARNING",
        Rule.ENUM_VALUE_REMOVED_NOT_RESERVED,
    ) in found


def test_an_unchanged_schema_is_compatible_in_every_mode(load_message: LoadMessage) -> None:
    old = load_message(alert(), ALERT)
    new = load_message(alert(), ALERT)

    assert all(check_compatibility(old, new, mode=mode) == [] for mode in CompatMode)
