"""Release discipline for the contract: what CI judges a change against, and accepting a baseline.

`nautilus schema gate` judges the schemas against two references, with `buf breaking` and with
`nautilus schema compat` (mode FULL, level WIRE_JSON, routes included):

- the released baseline image (`schemas/baseline.binpb`);
- the schemas at the merge-base with the main branch, so a branch is judged on everything it
  changed. On a clone of main itself (merge-base == HEAD) the previous commit is the reference;
  with no previous commit the check is skipped and says why. HEAD is never compared with itself.

`nautilus schema baseline` makes the current schemas the released baseline. It refuses when they
break the old baseline, unless `--force REASON` is given; the reason and the violations it
accepted are appended to `schemas/baseline-breaks.md`, kept beside the baseline.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

__all__ = ["Reference", "add_release_actions", "buf_executable", "choose_reference"]

_SCHEMAS = "schemas"
_BASELINE = "schemas/baseline.binpb"
_BREAKS_LOG = "schemas/baseline-breaks.md"
_MAIN = "main"


@dataclass(frozen=True)
class Reference:
    """The commit a change is judged against, or why there is none."""

    commit: str | None
    why: str


def _git(root: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def choose_reference(root: Path, main: str = _MAIN) -> Reference:
    """The merge-base of HEAD with `main` when it is not HEAD, else HEAD~1, else none."""
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    if head is None:
        return Reference(None, "not a git checkout with commits")
    base = _git(root, "merge-base", "HEAD", main)
    if base is not None and base != head:
        return Reference(base, f"merge-base of HEAD with {main}")
    parent = _git(root, "rev-parse", "--verify", "-q", "HEAD~1")
    if parent is not None:
        where = f"HEAD is on {main}" if base == head else f"no branch {main}"
        return Reference(parent, f"previous commit ({where})")
    return Reference(None, "HEAD has no parent and is the merge-base: nothing earlier to compare")


def _extract_schemas(root: Path, commit: str, into: Path) -> Path | None:
    """The schemas/ folder of `commit` under `into`, or None when that commit has none."""
    done = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", commit, _SCHEMAS],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    with tarfile.open(fileobj=BytesIO(done.stdout)) as archive:
        archive.extractall(into, filter="data")
    found = into / _SCHEMAS
    return found if any(found.rglob("*.proto")) else None


def buf_executable() -> str:
    """`buf` from the buf-bin wheel beside this interpreter, else from PATH."""
    found = shutil.which(
        "buf", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )
    return found or "buf"


def _buf(root: Path, *args: str) -> int:
    return subprocess.run([buf_executable(), *args], cwd=root, check=False).returncode


def _compat(old: Path, new: Path) -> int:
    from nautilus.cli.schema_command import main_compat

    return main_compat(old, new, mode="full", level="wire_json")


def _judge(root: Path, against: Path, label: str) -> bool:
    print(f"schema gate: against {label}", file=sys.stderr)
    buf_ok = _buf(root, "breaking", "--against", str(against)) == 0
    ours_ok = _compat(against, root / _SCHEMAS) == 0
    return buf_ok and ours_ok


def _gate(args: Any) -> int:
    root = Path(args.root).resolve()
    ok = _judge(root, root / _BASELINE, f"the released baseline {_BASELINE}")
    reference = choose_reference(root, args.main)
    if reference.commit is None:
        print(f"schema gate: no commit to compare with: {reference.why}", file=sys.stderr)
        return 0 if ok else 1
    with tempfile.TemporaryDirectory() as tmp:
        old = _extract_schemas(root, reference.commit, Path(tmp))
        if old is None:
            print(f"schema gate: {reference.commit[:12]} has no schemas; skipped", file=sys.stderr)
        else:
            label = f"{reference.commit[:12]}, the {reference.why}"
            ok = _judge(root, old, label) and ok
    return 0 if ok else 1


def _record_break(root: Path, reason: str, violations: Sequence[str]) -> None:
    log = root / _BREAKS_LOG
    if not log.exists():
        log.write_text(
            "# Breaking changes accepted into the baseline\n\n"
            'Each entry was forced with `make baseline FORCE="reason"`.\n'
        )
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = "\n".join(f"- `{v}`" for v in violations) or "- (reported by buf breaking only)"
    with log.open("a") as out:
        out.write(f"\n## {stamp}\n\nReason: {reason}\n\n{lines}\n")


def _baseline(args: Any) -> int:
    from nautilus.cli.schema_command import breaking_lines

    root = Path(args.root).resolve()
    baseline = root / _BASELINE
    violations: list[str] = []
    if baseline.exists():
        violations = breaking_lines(baseline, root / _SCHEMAS, mode="full", level="wire_json")
        buf_ok = _buf(root, "breaking", "--against", str(baseline)) == 0
        breaking = bool(violations) or not buf_ok
        if breaking and not args.force:
            for line in violations:
                print(line)
            print(
                "schema baseline: refused: the schemas break the released baseline; fix them, "
                'or accept the break with `make baseline FORCE="why"` (recorded in '
                f"{_BREAKS_LOG})",
                file=sys.stderr,
            )
            return 1
        if breaking:
            _record_break(root, args.force, violations)
    if _buf(root, "build", "--exclude-source-info", "-o", str(baseline)) != 0:
        return 2
    print(f"schema baseline: wrote {_BASELINE}", file=sys.stderr)
    return 0


def _project_root(text: str) -> str:
    """A directory holding the project's buf.yaml (argparse type)."""
    if not (Path(text) / "buf.yaml").is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not the project's root (no buf.yaml in it)")
    return text


def add_release_actions(actions: Any) -> None:
    """Add `gate` and `baseline` to the `schema` command's actions."""
    gate: argparse.ArgumentParser = actions.add_parser(
        "gate",
        help="CI: judge the schemas against the baseline and the merge-base with main",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gate.add_argument(
        "--root", type=_project_root, default=".", help="the project root (holds buf.yaml)"
    )
    gate.add_argument("--main", default=_MAIN, help="the main branch (default main)")
    gate.set_defaults(handler=_gate)

    baseline: argparse.ArgumentParser = actions.add_parser(
        "baseline",
        help="accept the current schemas as the released baseline (refuses breaking changes)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    baseline.add_argument(
        "--root", type=_project_root, default=".", help="the project root (holds buf.yaml)"
    )
    baseline.add_argument(
        "--force",
        metavar="REASON",
        default="",
        help="accept a breaking change; REASON is recorded in " + _BREAKS_LOG,
    )
    baseline.set_defaults(handler=_baseline)
