"""`nautilus schema compat OLD NEW`: exit 0 compatible, 1 breaking, 2 unreadable input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nautilus.cli.main import main
from nautilus.codegen.compile import compile_descriptor_set

from .conftest import WriteSchema

CASES = Path(__file__).parent / "testdata" / "compat"
# buf-bin installs `buf` next to the interpreter, which may not be on PATH under `make`.
BUF = shutil.which(
    "buf", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
)


def case(name: str, side: str) -> str:
    return str(CASES / name / side)


def test_compatible_contracts_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["schema", "compat", case("field_added", "old"), case("field_added", "new")])

    out, err = capsys.readouterr()
    assert status == 0
    assert out == ""
    assert err.startswith("compatible:")


def test_breaking_contracts_exit_1_with_one_line_per_violation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(
        ["schema", "compat", case("field_type_changed", "old"), case("field_type_changed", "new")]
    )

    out, err = capsys.readouterr()
    assert status == 1
    assert out.splitlines() == [
        "nautilus.vpin.v1.ToxicityAlert.vpin: FIELD_TYPE_CHANGED: double -> string: "
        "the encodings differ, so readers skip or misread the value"
    ]
    assert "1 breaking change" in err


def test_level_defaults_to_wire_json(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = case("field_renamed", "old"), case("field_renamed", "new")

    default_status = main(["schema", "compat", old, new])
    wire_status = main(["schema", "compat", old, new, "--level", "wire"])

    assert (default_status, wire_status) == (1, 0)
    assert "FIELD_NAME_CHANGED" in capsys.readouterr().out


def test_mode_forward_checks_old_readers() -> None:
    old = case("cardinality_singular_to_repeated", "old")
    new = case("cardinality_singular_to_repeated", "new")

    backward = main(["schema", "compat", old, new, "--level", "wire", "--mode", "backward"])
    forward = main(["schema", "compat", old, new, "--level", "wire", "--mode", "forward"])

    assert (backward, forward) == (0, 1)


def test_mode_defaults_to_full_so_singular_to_repeated_breaks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = case("cardinality_singular_to_repeated", "old")
    new = case("cardinality_singular_to_repeated", "new")

    status = main(["schema", "compat", old, new, "--level", "wire"])

    assert status == 1
    assert "FIELD_CARDINALITY_CHANGED" in capsys.readouterr().out


def test_descriptor_set_files_are_accepted_as_either_side(tmp_path: Path) -> None:
    image = tmp_path / "baseline.binpb"
    image.write_bytes(compile_descriptor_set(Path(case("field_added", "old"))).SerializeToString())

    status = main(["schema", "compat", str(image), case("field_added", "new")])

    assert status == 0


@pytest.mark.skipif(BUF is None, reason="buf CLI not installed")
def test_buf_images_are_accepted_as_baseline(tmp_path: Path) -> None:
    image = tmp_path / "baseline.binpb"
    subprocess.run(
        [str(BUF), "build", "--exclude-source-info", "-o", str(image)],
        cwd=case("field_removed_not_reserved", "old"),
        check=True,
        capture_output=True,
    )

    status = main(["schema", "compat", str(image), case("field_removed_not_reserved", "new")])

    assert status == 1


def test_a_missing_path_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["schema", "compat", str(tmp_path / "nope.binpb"), case("field_added", "new")])

    assert status == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_file_that_is_not_a_descriptor_set_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "schemas.binpb"
    bogus.write_text('syntax = "proto3";\n')

    status = main(["schema", "compat", str(bogus), case("field_added", "new")])

    assert status == 2
    assert "is not a binary FileDescriptorSet" in capsys.readouterr().err


def test_a_schema_that_does_not_compile_exits_2(
    write_schema: WriteSchema, capfd: pytest.CaptureFixture[str]
) -> None:
    broken = write_schema(
        "broken", {"nautilus/vpin/v1/vpin.proto": 'syntax = "proto3";\nmessage ToxicityAlert {\n'}
    )

    status = main(["schema", "compat", case("field_added", "old"), str(broken)])

    assert status == 2
    assert "protoc failed" in capfd.readouterr().err


def test_a_directory_without_schemas_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["schema", "compat", case("field_added", "old"), str(tmp_path)])

    assert status == 2
    assert "no .proto files" in capsys.readouterr().err


def test_an_unknown_level_is_a_usage_error_with_exit_2() -> None:
    with pytest.raises(SystemExit) as usage:
        main(["schema", "compat", "old", "new", "--level", "json"])

    assert usage.value.code == 2


def test_routes_are_compared_one_line_per_violation(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = case("route_stream_changed", "old"), case("route_stream_changed", "new")

    status = main(["schema", "compat", old, new])

    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert [line.split(": ")[1] for line in out] == [
        "ROUTE_CONSUMER_REMOVED",
        "ROUTE_PRODUCER_CHANGED",
        "ROUTE_STREAM_CHANGED",
    ]
    assert out[2].startswith("nautilus.vpin.v1.ToxicityAlert(route): ROUTE_STREAM_CHANGED: ")


def test_a_priority_change_within_a_lane_is_compatible() -> None:
    old, new = case("route_priority_within_lane", "old"), case("route_priority_within_lane", "new")

    assert main(["schema", "compat", old, new]) == 0
