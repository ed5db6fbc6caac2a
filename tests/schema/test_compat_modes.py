"""Modes: which directions a check protects and how many registered versions it looks at."""

from __future__ import annotations

import pytest

from nautilus.runtime.schema import (
    DEFAULT_LEVEL,
    DEFAULT_MODE,
    CompatLevel,
    CompatMode,
    Rule,
    SchemaIncompatibleError,
    check_compatibility,
    check_mode,
    require_compatible,
)

from .conftest import LoadMessage

TRADE = "nautilus.marketdata.v1.Trade"


def trade(fields: str) -> str:
    return f"""
        syntax = "proto3";
        package nautilus.marketdata.v1;
        message Trade {{
          string instrument_id = 1;
          int64 price_e9 = 2;
        {fields}
        }}
    """


@pytest.mark.parametrize(
    ("mode", "backward", "forward", "transitive"),
    [
        (CompatMode.BACKWARD, True, False, False),
        (CompatMode.FORWARD, False, True, False),
        (CompatMode.FULL, True, True, False),
        (CompatMode.BACKWARD_TRANSITIVE, True, False, True),
        (CompatMode.FORWARD_TRANSITIVE, False, True, True),
        (CompatMode.FULL_TRANSITIVE, True, True, True),
        (CompatMode.NONE, False, False, False),
    ],
)
def test_mode_protects_its_directions(
    mode: CompatMode, backward: bool, forward: bool, transitive: bool
) -> None:
    assert (mode.checks_backward, mode.checks_forward, mode.transitive) == (
        backward,
        forward,
        transitive,
    )


def test_defaults_are_full_at_wire_json() -> None:
    assert (DEFAULT_MODE, DEFAULT_LEVEL) == (CompatMode.FULL, CompatLevel.WIRE_JSON)


def test_direction_matters_for_asymmetric_rules(load_message: LoadMessage) -> None:
    old = load_message(trade("  string exec_venue = 7;"), TRADE)
    new = load_message(trade("  repeated string exec_venue = 7;"), TRADE)

    backward = check_compatibility(old, new, CompatLevel.WIRE, CompatMode.BACKWARD)
    forward = check_compatibility(old, new, CompatLevel.WIRE, CompatMode.FORWARD)

    assert backward == []
    assert [v.rule for v in forward] == [Rule.FIELD_CARDINALITY_CHANGED]


def test_full_reports_a_symmetric_change_once(load_message: LoadMessage) -> None:
    old = load_message(trade("  double fee = 7;"), TRADE)
    new = load_message(trade("  string fee = 7;"), TRADE)

    violations = check_compatibility(old, new, CompatLevel.WIRE, CompatMode.FULL)

    assert [v.rule for v in violations] == [Rule.FIELD_TYPE_CHANGED]


def test_first_version_of_a_type_is_always_accepted(load_message: LoadMessage) -> None:
    candidate = load_message(trade(""), TRADE)

    assert check_mode([], candidate, CompatMode.FULL_TRANSITIVE) == []


def test_mode_none_accepts_a_breaking_change(load_message: LoadMessage) -> None:
    old = load_message(trade("  double fee = 7;"), TRADE)
    new = load_message(trade("  string fee = 7;"), TRADE)

    assert check_mode([old], new, CompatMode.NONE) == []


def test_transitive_mode_checks_every_registered_version(load_message: LoadMessage) -> None:
    v1 = load_message(trade("  string exec_venue = 7;"), TRADE)
    v2 = load_message(trade("  repeated string exec_venue = 7;"), TRADE)
    v3 = load_message(trade("  repeated string exec_venue = 7;\n  uint64 ts_init = 8;"), TRADE)

    latest_only = check_mode([v1, v2], v3, CompatMode.BACKWARD)
    transitive = check_mode([v1, v2], v3, CompatMode.BACKWARD_TRANSITIVE)

    assert latest_only == []
    assert [(v.field, v.rule) for v in transitive] == [
        ("Trade.exec_venue", Rule.FIELD_CARDINALITY_CHANGED)
    ]


def test_forward_transitive_protects_the_oldest_readers(load_message: LoadMessage) -> None:
    v1 = load_message(trade("  string exec_venue = 7;"), TRADE)
    v2 = load_message(trade("  repeated string exec_venue = 7;"), TRADE)
    v3 = load_message(trade("  repeated string exec_venue = 7;\n  uint64 ts_init = 8;"), TRADE)

    assert check_mode([v1, v2], v3, CompatMode.FORWARD, CompatLevel.WIRE) == []
    assert [
        v.rule for v in check_mode([v1, v2], v3, CompatMode.FORWARD_TRANSITIVE, CompatLevel.WIRE)
    ] == [Rule.FIELD_CARDINALITY_CHANGED]


def test_a_finding_against_several_versions_is_reported_once(load_message: LoadMessage) -> None:
    v1 = load_message(trade("  double fee = 7;"), TRADE)
    v2 = load_message(trade("  double fee = 7;\n  uint64 ts_init = 8;"), TRADE)
    candidate = load_message(trade("  string fee = 7;\n  uint64 ts_init = 8;"), TRADE)

    violations = check_mode([v1, v2], candidate, CompatMode.FULL_TRANSITIVE)

    assert [v.rule for v in violations] == [Rule.FIELD_TYPE_CHANGED]


def test_require_compatible_refuses_with_the_type_and_its_violations(
    load_message: LoadMessage,
) -> None:
    old = load_message(trade("  double fee = 7;"), TRADE)
    new = load_message(trade("  string fee = 7;"), TRADE)

    with pytest.raises(SchemaIncompatibleError) as refused:
        require_compatible([old], new)

    assert refused.value.type_name == TRADE
    assert [v.rule for v in refused.value.violations] == [Rule.FIELD_TYPE_CHANGED]
    assert "nautilus.marketdata.v1.Trade.fee: FIELD_TYPE_CHANGED" in str(refused.value)


def test_require_compatible_accepts_a_compatible_version(load_message: LoadMessage) -> None:
    old = load_message(trade(""), TRADE)
    new = load_message(trade("  uint64 ts_init = 8;"), TRADE)

    assert require_compatible([old], new) is None
