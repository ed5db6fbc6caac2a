"""The generator: deterministic output, stale-file detection, and the routing rules it enforces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nautilus.codegen import CodegenError, ContractModel, generate
from nautilus.codegen.pipeline import load_contract, render_all
from tests.contract.conftest import EditSchema

REPO = Path(__file__).resolve().parents[2]
VPIN = "nautilus/vpin/v1/vpin.proto"
Compile = Callable[[], ContractModel]


def test_rendering_twice_gives_identical_bytes(schema_copy: Path) -> None:
    assert render_all(load_contract(schema_copy)) == render_all(load_contract(schema_copy))


def test_the_committed_generated_tree_is_fresh() -> None:
    result = generate(REPO / "schemas", REPO / "generated", check=True)
    assert result.written == ()
    assert result.removed == ()


def test_a_second_run_changes_nothing(schema_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    first = generate(schema_copy, out)
    assert first.written
    assert not first.removed
    assert not generate(schema_copy, out).changed


def test_outputs_cover_every_kind_of_artifact(schema_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    generate(schema_copy, out)
    assert (out / "nautilus/vpin/v1/vpin_pb2.py").is_file()
    assert (out / "nautilus/vpin/v1/vpin_pb2.pyi").is_file()
    assert (out / "nautilus/vpin/v1/json_models.py").is_file()
    assert (
        out / "nautilus/contract/jsonschema/nautilus.vpin.v1.ToxicityAlert.schema.json"
    ).is_file()
    assert (out / "nautilus/contract/descriptor_set.binpb").is_file()
    assert (out / "nautilus/contract/fingerprints.json").is_file()


def test_check_mode_reports_a_hand_edit_and_an_extra_file(
    schema_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "generated"
    generate(schema_copy, out)
    edited = out / "nautilus/vpin/v1/vpin_pb2.pyi"
    edited.write_text(edited.read_text() + "# edited by hand\n")
    (out / "nautilus/vpin/v1/leftover_pb2.py").write_text("")
    result = generate(schema_copy, out, check=True)
    assert result.written == ("nautilus/vpin/v1/vpin_pb2.pyi",)
    assert result.removed == ("nautilus/vpin/v1/leftover_pb2.py",)
    assert edited.read_text().endswith("# edited by hand\n")  # check mode writes nothing


def test_a_regular_run_repairs_edits_and_removes_stale_files(
    schema_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "generated"
    generate(schema_copy, out)
    (out / "nautilus/vpin/v1/leftover_pb2.py").write_text("")
    result = generate(schema_copy, out)
    assert result.removed == ("nautilus/vpin/v1/leftover_pb2.py",)
    assert not generate(schema_copy, out, check=True).changed


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        pytest.param(
            'stream: "nautilus-vpin-streams"\n    producer: ENGINE_VPIN',
            'stream: "nautilus-risk-streams"\n    producer: ENGINE_VPIN',
            "is not vpin's stream",
            id="stream-of-another-engine",
        ),
        pytest.param(
            "consumers: [\n      ENGINE_RISK,",
            "consumers: [\n      ENGINE_VPIN,",
            "consumes its own message",
            id="producer-consumes-itself",
        ),
        pytest.param(
            "consumers: [\n      ENGINE_RISK,",
            "consumers: [\n      ENGINE_STRATEGY,",
            "listed twice",
            id="duplicate-consumer",
        ),
        pytest.param(
            "    priority: MESSAGE_PRIORITY_URGENT\n",
            "",
            "no default priority",
            id="missing-priority",
        ),
        pytest.param(
            "    priority: MESSAGE_PRIORITY_URGENT\n",
            "    priority: MESSAGE_PRIORITY_URGENT\n    delivery: DELIVERY_BEST_EFFORT\n",
            "best-effort delivery with default priority URGENT",
            id="best-effort-on-the-priority-lane",
        ),
        pytest.param(
            "    priority: MESSAGE_PRIORITY_URGENT\n",
            "    priority: MESSAGE_PRIORITY_URGENT\n    at_least_once_consumers: [ENGINE_RISK]\n",
            "at-least-once consumers without best-effort delivery",
            id="at-least-once-consumers-without-best-effort",
        ),
        pytest.param(
            'stream: "nautilus-vpin-streams"\n    producer: ENGINE_VPIN',
            'stream: ""\n    producer: ENGINE_FRONTEND',
            "external party frontend cannot publish",
            id="external-producer",
        ),
    ],
)
def test_routing_rule_violations_stop_generation(
    compile_copy: Compile, edit_schema: EditSchema, old: str, new: str, error: str
) -> None:
    edit_schema(VPIN, old, new)
    with pytest.raises(CodegenError, match=error):
        compile_copy()


def test_a_schema_that_does_not_compile_is_a_codegen_error(
    compile_copy: Compile, edit_schema: EditSchema
) -> None:
    edit_schema(VPIN, "double vpin = 2;", "doubel vpin = 2;")
    with pytest.raises(CodegenError, match="protoc failed"):
        compile_copy()


def test_a_missing_schema_directory_is_a_codegen_error(tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match="schema directory not found"):
        load_contract(tmp_path / "nowhere")


def test_every_routing_violation_is_reported_at_once(
    compile_copy: Compile, edit_schema: EditSchema
) -> None:
    # Both vpin messages move to the risk stream, and one loses its default priority.
    for _ in range(2):
        edit_schema(VPIN, 'stream: "nautilus-vpin-streams"', 'stream: "nautilus-risk-streams"')
    edit_schema(VPIN, "    priority: MESSAGE_PRIORITY_URGENT\n", "")

    with pytest.raises(CodegenError) as refused:
        compile_copy()

    message = str(refused.value)
    assert message.startswith("3 routing violations:")
    assert "ToxicityAlert: route: no default priority" in message
    assert message.count("is not vpin's stream") == 2
