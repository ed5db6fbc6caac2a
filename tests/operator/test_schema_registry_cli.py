"""`nautilus schema list|show|register`: the registry's contents and versions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nautilus.contract import fingerprints
from tests.schema_edits import add_field, replace_in_message

from .conftest import RunCli

SCHEMAS = Path(__file__).parents[2] / "schemas"
ALERT = "nautilus.vpin.v1.ToxicityAlert"


def edited_schemas(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of schemas/ with one edit to vpin.proto."""
    root = tmp_path / "edited-schemas"
    shutil.copytree(SCHEMAS, root)
    proto = root / "nautilus" / "vpin" / "v1" / "vpin.proto"
    source = proto.read_text()
    assert old in source
    proto.write_text(source.replace(old, new, 1))
    return root


def with_note_field(tmp_path: Path) -> tuple[Path, int]:
    """Schemas where ToxicityAlert gained a field (a compatible new version), and its number."""
    root = tmp_path / "edited-schemas"
    shutil.copytree(SCHEMAS, root)
    number = add_field(
        root / "nautilus" / "vpin" / "v1" / "vpin.proto", "ToxicityAlert", "string note"
    )
    return root, number


def listed(run_cli: RunCli) -> dict[str, dict]:
    lines = run_cli("schema", "list", "--json").out.splitlines()
    return {d["type"]: d for d in map(json.loads, lines)}


def test_list_shows_every_contract_type_unregistered_at_first(run_cli: RunCli) -> None:
    types = listed(run_cli)

    assert set(types) == set(fingerprints())
    assert types[ALERT]["versions"] == []


def test_register_records_the_contract_schema(run_cli: RunCli) -> None:
    result = run_cli("schema", "register", "ToxicityAlert")

    assert result.out.strip() == (f"{ALERT} {fingerprints()[ALERT]}: registered as version 1")
    assert listed(run_cli)[ALERT]["versions"] == [fingerprints()[ALERT]]


def test_register_twice_changes_nothing(run_cli: RunCli) -> None:
    run_cli("schema", "register", ALERT)

    result = run_cli("schema", "register", ALERT)

    assert "already registered as version 1" in result.out


def test_register_from_another_contract_adds_a_version(run_cli: RunCli, tmp_path: Path) -> None:
    newer, _number = with_note_field(tmp_path)
    run_cli("schema", "register", ALERT)

    result = run_cli("schema", "register", ALERT, "--from", str(newer), "--producer", "vpin")

    assert result.status == 0
    assert "registered as version 2" in result.out
    assert len(listed(run_cli)[ALERT]["versions"]) == 2


def test_register_refuses_an_incompatible_schema_with_its_violations(
    run_cli: RunCli, tmp_path: Path
) -> None:
    broken = edited_schemas(tmp_path, "double vpin = 2;", "string vpin = 2;")
    run_cli("schema", "register", ALERT)

    result = run_cli("schema", "register", ALERT, "--from", str(broken))

    assert result.status == 1
    assert "FIELD_TYPE_CHANGED" in result.out
    assert f"refused: {ALERT} is incompatible" in result.out


def test_show_lists_versions_with_producer_and_contract_marker(
    run_cli: RunCli, tmp_path: Path
) -> None:
    newer, _number = with_note_field(tmp_path)
    run_cli("schema", "register", ALERT)
    run_cli("schema", "register", ALERT, "--from", str(newer), "--producer", "vpin")

    document = json.loads(run_cli("schema", "show", ALERT, "--json").out)

    assert [(v["version"], v["producer"], v["contract"]) for v in document["versions"]] == [
        (1, "", True),
        (2, "vpin", False),
    ]


def test_show_with_fingerprint_prints_that_versions_fields(run_cli: RunCli, tmp_path: Path) -> None:
    newer, number = with_note_field(tmp_path)
    run_cli("schema", "register", ALERT, "--from", str(newer))
    (fingerprint,) = listed(run_cli)[ALERT]["versions"]

    result = run_cli("schema", "show", ALERT, "--fingerprint", fingerprint)

    assert f"message {ALERT} {{" in result.out
    assert f"  string note = {number};" in result.out
    assert "  nautilus.common.v1.Severity severity = 5;" in result.out


def test_show_of_an_unknown_type_lists_the_known_ones(run_cli: RunCli) -> None:
    result = run_cli("schema", "show", "NoSuchMessage")

    assert result.status == 2
    assert "unknown message type 'NoSuchMessage'; known types: " in result.err


def edited_alert(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of schemas/ whose ToxicityAlert has one edit."""
    root = tmp_path / name
    shutil.copytree(SCHEMAS, root)
    replace_in_message(root / "nautilus" / "vpin" / "v1" / "vpin.proto", "ToxicityAlert", old, new)
    return root


def test_register_with_mode_none_warns_loudly(run_cli: RunCli, tmp_path: Path) -> None:
    broken = edited_alert(tmp_path, "broken", "double vpin =", "string vpin =")
    run_cli("schema", "register", ALERT)

    result = run_cli("schema", "register", ALERT, "--from", str(broken), "--mode", "none")

    assert result.status == 0
    assert "WARNING: --mode none registers without any compatibility check" in result.err


def test_violations_name_the_registered_version_they_conflict_with(
    run_cli: RunCli, tmp_path: Path
) -> None:
    broken = edited_alert(tmp_path, "broken", "double vpin =", "string vpin =")
    newer, _ = with_note_field(tmp_path)
    run_cli("schema", "register", ALERT)
    run_cli("schema", "register", ALERT, "--from", str(broken), "--mode", "none")
    (_, forced) = listed(run_cli)[ALERT]["versions"]

    result = run_cli("schema", "register", ALERT, "--from", str(newer))

    assert result.status == 1
    assert f"[registered v2 {forced}]" in result.out
    assert "ToxicityAlert.vpin: FIELD_TYPE_CHANGED" in result.out


def test_check_is_a_dry_run(run_cli: RunCli, tmp_path: Path) -> None:
    broken = edited_alert(tmp_path, "broken", "double vpin =", "string vpin =")
    newer, _ = with_note_field(tmp_path)
    run_cli("schema", "register", ALERT)
    (first,) = listed(run_cli)[ALERT]["versions"]

    refused = run_cli("schema", "check", ALERT, "--from", str(broken))
    accepted = run_cli("schema", "check", ALERT, "--from", str(newer))

    assert refused.status == 1
    assert "FIELD_TYPE_CHANGED" in refused.out
    assert f"[registered v1 {first}]" in refused.out
    assert accepted.status == 0
    assert f"{ALERT}: compatible (FULL, WIRE_JSON)" in accepted.out
    assert listed(run_cli)[ALERT]["versions"] == [first]


def test_a_type_only_in_a_candidate_contract_can_be_registered(
    run_cli: RunCli, tmp_path: Path
) -> None:
    candidate = tmp_path / "candidate"
    shutil.copytree(SCHEMAS, candidate)
    v1 = (candidate / "nautilus" / "risk" / "v1" / "risk.proto").read_text()
    (candidate / "nautilus" / "risk" / "v2").mkdir()
    (candidate / "nautilus" / "risk" / "v2" / "risk.proto").write_text(
        v1.replace("package nautilus.risk.v1;", "package nautilus.risk.v2;")
    )

    result = run_cli("schema", "register", "nautilus.risk.v2.RiskMetrics", "--from", str(candidate))

    assert result.status == 0, result.err
    assert "nautilus.risk.v2.RiskMetrics" in result.out
    assert "registered as version 1" in result.out


def test_a_deprecated_version_is_listed_as_such_and_stays(run_cli: RunCli) -> None:
    run_cli("schema", "register", ALERT)
    fingerprint = fingerprints()[ALERT]

    result = run_cli("schema", "deprecate", ALERT, fingerprint, "--reason", "use v2")

    document = json.loads(run_cli("schema", "show", ALERT, "--json").out)
    assert result.status == 0
    assert [(v["fingerprint"], v["deprecated"]) for v in document["versions"]] == [
        (fingerprint, "use v2")
    ]
    shown = run_cli("schema", "show", ALERT, "--fingerprint", fingerprint)
    assert f"message {ALERT} {{" in shown.out


def test_delete_needs_force(run_cli: RunCli) -> None:
    run_cli("schema", "register", ALERT)
    fingerprint = fingerprints()[ALERT]

    refused = run_cli("schema", "delete", ALERT, fingerprint)
    deleted = run_cli("schema", "delete", ALERT, fingerprint, "--force")

    assert refused.status == 2
    assert "--force" in refused.err
    assert deleted.status == 0
    assert listed(run_cli)[ALERT]["versions"] == []


def test_the_mode_is_stored_per_type_with_a_full_default(run_cli: RunCli, tmp_path: Path) -> None:
    repeated = edited_alert(tmp_path, "repeated", "double vpin =", "repeated double vpin =")
    run_cli("schema", "register", ALERT)
    args = ("schema", "register", ALERT, "--from", str(repeated), "--level", "wire")

    under_full = run_cli(*args)
    run_cli("schema", "mode", ALERT, "--set", "backward")
    under_backward = run_cli(*args)

    assert run_cli("schema", "mode", "--global").out.strip() == "registry default: FULL"
    assert under_full.status == 1
    assert "refused" in under_full.out
    assert run_cli("schema", "mode", ALERT).out.strip() == f"{ALERT}: BACKWARD"
    assert under_backward.status == 0
    assert "registered as version 2" in under_backward.out
