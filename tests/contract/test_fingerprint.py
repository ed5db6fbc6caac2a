"""Fingerprints: same schema, same fingerprint; any change a reader notices, a new one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nautilus.codegen import ContractModel
from nautilus.codegen.pipeline import load_contract
from nautilus.contract import fingerprints
from nautilus.runtime.schema import fingerprint
from tests.contract.conftest import EditSchema
from tests.samples import all_bus_message_classes

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
VPIN = "nautilus/vpin/v1/vpin.proto"
ALERT = "nautilus.vpin.v1.ToxicityAlert"
Compile = Callable[[], ContractModel]


def _fingerprint(contract: ContractModel, full_name: str = ALERT) -> str:
    return contract.message(full_name).fingerprint


def test_generated_fingerprints_match_the_loaded_classes() -> None:
    for cls in all_bus_message_classes():
        assert fingerprint(cls.DESCRIPTOR) == fingerprints()[cls.DESCRIPTOR.full_name]


def test_fingerprints_are_sixteen_hex_characters_and_distinct() -> None:
    values = list(fingerprints().values())
    assert all(len(v) == 16 and int(v, 16) >= 0 for v in values)
    assert len(set(values)) == len(values)


def test_compiling_twice_gives_the_same_fingerprints() -> None:
    first = {m.full_name: m.fingerprint for m in load_contract(SCHEMAS).bus_messages}
    assert first == {m.full_name: m.fingerprint for m in load_contract(SCHEMAS).bus_messages}
    assert first == fingerprints()


def test_comments_do_not_change_the_fingerprint(
    compile_copy: Compile, edit_schema: EditSchema
) -> None:
    before = _fingerprint(compile_copy())
    edit_schema(
        VPIN,
        "  // Instrument whose flow is toxic",
        "  // Reworded.\n  // Instrument whose flow is toxic",
    )
    assert _fingerprint(compile_copy()) == before


def test_field_declaration_order_does_not_change_the_fingerprint(
    compile_copy: Compile, edit_schema: EditSchema
) -> None:
    before = _fingerprint(compile_copy())
    edit_schema(VPIN, "  string instrument_id = 1;\n  // VPIN over", "  // VPIN over")
    edit_schema(
        VPIN, "  uint64 ts_init = 11;\n}", "  uint64 ts_init = 11;\n  string instrument_id = 1;\n}"
    )
    assert _fingerprint(compile_copy()) == before


def test_route_options_do_not_change_the_fingerprint(
    compile_copy: Compile, edit_schema: EditSchema
) -> None:
    before = _fingerprint(compile_copy())
    edit_schema(VPIN, "priority: MESSAGE_PRIORITY_URGENT", "priority: MESSAGE_PRIORITY_HIGH")
    assert _fingerprint(compile_copy()) == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("double vpin = 2;", "float vpin = 2;", id="field-type"),
        pytest.param("double vpin = 2;", "double vpin = 12;", id="field-number"),
        pytest.param("double vpin = 2;", "double vpin_value = 2;", id="field-name"),
        pytest.param("double vpin = 2;", 'double vpin = 2 [json_name = "v"];', id="json-name"),
        pytest.param("double vpin = 2;", "repeated double vpin = 2;", id="cardinality"),
        pytest.param("double vpin = 2;", "optional double vpin = 2;", id="presence"),
        pytest.param("uint32 window_buckets = 8;", "", id="field-removed"),
        pytest.param(
            "uint64 ts_init = 11;", "uint64 ts_init = 11;\n  string venue = 12;", id="field-added"
        ),
    ],
)
def test_wire_or_json_relevant_changes_give_a_new_fingerprint(
    compile_copy: Compile, edit_schema: EditSchema, old: str, new: str
) -> None:
    before = _fingerprint(compile_copy())
    edit_schema(VPIN, old, new)
    assert _fingerprint(compile_copy()) != before


def test_a_change_in_a_referenced_enum_changes_the_referencing_message(
    compile_copy: Compile, edit_schema: EditSchema
) -> None:
    contract = compile_copy()
    alert, quote = _fingerprint(contract), _fingerprint(contract, "nautilus.marketdata.v1.Quote")
    edit_schema(
        "nautilus/common/v1/common.proto",
        "SEVERITY_CRITICAL = 3;",
        "SEVERITY_CRITICAL = 3;\n  SEVERITY_FATAL = 4;",
    )
    contract = compile_copy()
    assert _fingerprint(contract) != alert  # ToxicityAlert uses Severity
    assert _fingerprint(contract, "nautilus.marketdata.v1.Quote") == quote  # Quote does not


def test_a_moved_package_is_a_different_type(
    compile_copy: Compile, edit_schema: EditSchema
) -> None:
    before = _fingerprint(compile_copy())
    edit_schema(VPIN, "package nautilus.vpin.v1;", "package nautilus.vpin.v2;")
    # protoc does not enforce buf's directory rule: the type is now nautilus.vpin.v2.ToxicityAlert.
    assert _fingerprint(compile_copy(), "nautilus.vpin.v2.ToxicityAlert") != before
