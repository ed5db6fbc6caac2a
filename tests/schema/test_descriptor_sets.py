"""Reading descriptor sets: private pools, well-known imports, and clear errors for bad input."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2

from nautilus.runtime.schema import (
    CompatLevel,
    DescriptorSetError,
    Rule,
    build_pool,
    compare_descriptor_sets,
    message_descriptor,
    parse_descriptor_set,
)

from .conftest import CompileSchema

SNAPSHOT = {
    "nautilus/portfolio/v1/portfolio.proto": """
        syntax = "proto3";
        package nautilus.portfolio.v1;
        import "google/protobuf/timestamp.proto";
        message PortfolioSnapshot {
          string portfolio_id = 1;
          int64 equity_e9 = 2;
          google.protobuf.Timestamp as_of = 3;
        }
    """
}


def test_parse_rejects_bytes_that_are_not_a_descriptor_set() -> None:
    with pytest.raises(
        DescriptorSetError, match=r"baseline\.binpb is not a binary FileDescriptorSet"
    ):
        parse_descriptor_set(b"syntax = 'proto3';\n", source="baseline.binpb")


def test_parse_rejects_an_empty_set_so_a_truncated_baseline_cannot_pass() -> None:
    with pytest.raises(DescriptorSetError, match="no named files"):
        parse_descriptor_set(b"")


def test_parse_round_trips_a_compiled_set(compile_schema: CompileSchema) -> None:
    compiled = compile_schema(SNAPSHOT)

    assert parse_descriptor_set(compiled.SerializeToString()) == compiled


def test_missing_well_known_imports_come_from_the_protobuf_runtime(
    compile_schema: CompileSchema,
) -> None:
    compiled = compile_schema(SNAPSHOT)
    without_imports = descriptor_pb2.FileDescriptorSet(
        file=[f for f in compiled.file if not f.name.startswith("google/")]
    )

    pool = build_pool(without_imports)

    snapshot = pool.FindMessageTypeByName("nautilus.portfolio.v1.PortfolioSnapshot")
    assert snapshot.fields_by_name["as_of"].message_type.full_name == "google.protobuf.Timestamp"


def test_a_missing_project_import_is_an_error(compile_schema: CompileSchema) -> None:
    compiled = compile_schema(
        {
            "nautilus/common/v1/common.proto": """
                syntax = "proto3";
                package nautilus.common.v1;
                enum Severity { SEVERITY_UNSPECIFIED = 0; }
            """,
            "nautilus/vpin/v1/vpin.proto": """
                syntax = "proto3";
                package nautilus.vpin.v1;
                import "nautilus/common/v1/common.proto";
                message ToxicityAlert { nautilus.common.v1.Severity severity = 5; }
            """,
        }
    )
    broken = descriptor_pb2.FileDescriptorSet(
        file=[f for f in compiled.file if f.name != "nautilus/common/v1/common.proto"]
    )

    with pytest.raises(DescriptorSetError, match=r"imports nautilus/common/v1/common\.proto"):
        build_pool(broken)


def test_message_descriptor_finds_one_version_of_a_type(compile_schema: CompileSchema) -> None:
    message = message_descriptor(
        compile_schema(SNAPSHOT), "nautilus.portfolio.v1.PortfolioSnapshot"
    )

    assert [f.name for f in message.fields] == ["portfolio_id", "equity_e9", "as_of"]


def test_message_descriptor_reports_an_unknown_type(compile_schema: CompileSchema) -> None:
    with pytest.raises(DescriptorSetError, match=r"no message nautilus\.portfolio\.v1\.Position"):
        message_descriptor(compile_schema(SNAPSHOT), "nautilus.portfolio.v1.Position")


def test_two_versions_of_a_type_load_side_by_side(compile_schema: CompileSchema) -> None:
    old = compile_schema(SNAPSHOT)
    new = compile_schema(
        {k: v.replace("int64 equity_e9 = 2;", "double equity = 2;") for k, v in SNAPSHOT.items()}
    )

    violations = compare_descriptor_sets(old, new, CompatLevel.WIRE)

    assert [(v.location, v.rule) for v in violations] == [
        ("nautilus.portfolio.v1.PortfolioSnapshot.equity_e9", Rule.FIELD_TYPE_CHANGED)
    ]


def test_google_protobuf_types_are_not_part_of_the_contract(compile_schema: CompileSchema) -> None:
    old = compile_schema(SNAPSHOT)
    new = compile_schema(
        {
            k: v.replace('import "google/protobuf/timestamp.proto";', "").replace(
                "google.protobuf.Timestamp as_of = 3;", 'reserved 3;\n reserved "as_of";'
            )
            for k, v in SNAPSHOT.items()
        }
    )

    assert compare_descriptor_sets(old, new) == []


def test_violations_are_sorted_by_location(compile_schema: CompileSchema) -> None:
    old = compile_schema(SNAPSHOT)
    new = compile_schema(
        {
            k: v.replace("string portfolio_id = 1;", "bytes portfolio_id = 1;").replace(
                "int64 equity_e9 = 2;", "double equity_e9 = 2;"
            )
            for k, v in SNAPSHOT.items()
        }
    )

    locations = [v.location for v in compare_descriptor_sets(old, new)]

    assert locations == sorted(locations)
    assert len(locations) == 2
