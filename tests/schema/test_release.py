"""Release discipline: what CI judges a change against, and `make baseline` refusing breaks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nautilus.cli.main import main
from nautilus.cli.schema_release import choose_reference
from tests.schema_edits import add_field, replace_in_message

PROJECT = Path(__file__).resolve().parents[2]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def contract_copy(root: Path) -> Path:
    """A project root holding a copy of the contract: buf.yaml, schemas/ and the baseline."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "buf.yaml", root / "buf.yaml")
    shutil.copytree(PROJECT / "schemas", root / "schemas")
    return root


def vpin_proto(root: Path) -> Path:
    return root / "schemas" / "nautilus" / "vpin" / "v1" / "vpin.proto"


def edit_alert(root: Path, old: str, new: str) -> None:
    replace_in_message(vpin_proto(root), "ToxicityAlert", old, new)


def add_alert_field(root: Path, declaration: str) -> int:
    return add_field(vpin_proto(root), "ToxicityAlert", declaration)


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = contract_copy(tmp_path / "project")
    git(root, "init", "-q", "-b", "main")
    commit(root, "contract")
    return root


def test_a_branch_is_judged_against_its_merge_base_with_main(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "notes.txt").write_text("x")
    commit(repo, "one")
    (repo / "notes.txt").write_text("y")
    commit(repo, "two")

    assert choose_reference(repo).commit == base


def test_a_clone_of_main_is_judged_against_the_previous_commit_never_itself(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "notes.txt").write_text("x")
    head = commit(repo, "next")

    reference = choose_reference(repo)

    assert reference.commit == first != head
    assert "previous commit" in reference.why


def test_a_single_commit_has_no_reference_and_says_why(repo: Path) -> None:
    reference = choose_reference(repo)

    assert reference.commit is None
    assert "no parent" in reference.why


def test_gate_fails_on_a_break_against_the_merge_base_that_the_baseline_misses(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A field added on main after the baseline was cut; the branch then changes its type.
    number = add_alert_field(repo, "double spread")
    commit(repo, "add spread")
    git(repo, "checkout", "-q", "-b", "feature")
    edit_alert(repo, f"double spread = {number};", f"string spread = {number};")
    commit(repo, "spread as text")

    status = main(["schema", "gate", "--root", str(repo)])

    out, _ = capsys.readouterr()
    assert status == 1
    assert "ToxicityAlert.spread: FIELD_TYPE_CHANGED" in out


def test_gate_passes_a_compatible_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    add_alert_field(repo, "double spread")
    commit(repo, "add spread")

    assert main(["schema", "gate", "--root", str(repo)]) == 0


def test_baseline_refuses_a_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = contract_copy(tmp_path / "project")
    before = (root / "schemas" / "baseline.binpb").read_bytes()
    edit_alert(root, "double vpin =", "string vpin =")

    status = main(["schema", "baseline", "--root", str(root)])

    out, err = capsys.readouterr()
    assert status == 1
    assert "ToxicityAlert.vpin: FIELD_TYPE_CHANGED: double -> string" in out
    assert "refused" in err
    assert (root / "schemas" / "baseline.binpb").read_bytes() == before
    assert not (root / "schemas" / "baseline-breaks.md").exists()


def test_a_forced_baseline_records_its_reason_beside_the_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = contract_copy(tmp_path / "project")
    before = (root / "schemas" / "baseline.binpb").read_bytes()
    edit_alert(root, "double vpin =", "string vpin =")

    status = main(
        ["schema", "baseline", "--root", str(root), "--force", "no consumer reads vpin yet"]
    )

    record = (root / "schemas" / "baseline-breaks.md").read_text()
    assert status == 0
    assert (root / "schemas" / "baseline.binpb").read_bytes() != before
    assert "Reason: no consumer reads vpin yet" in record
    assert "ToxicityAlert.vpin: FIELD_TYPE_CHANGED" in record


def test_a_compatible_baseline_is_accepted_without_a_reason(tmp_path: Path) -> None:
    root = contract_copy(tmp_path / "project")
    add_alert_field(root, "double spread")

    assert main(["schema", "baseline", "--root", str(root)]) == 0
    assert not (root / "schemas" / "baseline-breaks.md").exists()
