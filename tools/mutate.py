"""`make mutate`: mutation testing of the modules that carry the delivery contract.

mutmut derives a module's import name from its path under `src/`, while this project maps its
folders onto the `nautilus` namespace (pyproject's package-dir: `runtime/` is `nautilus.runtime`).
So the run happens in a staging copy, `build/mutation/`, where the package is laid out as it is
installed (`src/nautilus/...`: the generated packages plus the hand-written folders), beside
copies of the tests, schemas and docs they read. mutmut puts its mutated copy of `src` first on
`sys.path`, ahead of the editable install's finder, so the tests import the mutants.

It runs one worker (`--max-children 1`: the machine is shared) and prints, per module, the
mutants killed out of those generated, and the score with the equivalent mutants listed in
docs/testing.md set aside. Exit status 1 when a module scores below the target.

    python tools/mutate.py [--target 85] [--module runtime/wire.py ...] [--resume] [--report-only]

An interrupted run keeps its results in build/mutation/; `--resume` goes on from them (with
`--module`, it checks those modules' mutants again first).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "build" / "mutation"
DOCS = ROOT / "docs" / "testing.md"

#: The delivery contract's modules, as paths of the project.
MODULES = [
    "runtime/wire.py",
    "runtime/lanes.py",
    "runtime/dead_letter.py",
    "runtime/trim.py",
    "runtime/consumer.py",
    "runtime/publisher.py",
    "runtime/schema/registry.py",
    "runtime/schema/fingerprint.py",
    "runtime/schema/rules.py",
]
#: Project folders and the package each becomes (pyproject's [tool.setuptools.package-dir]).
PACKAGES = {
    "runtime": "nautilus/runtime",
    "codegen": "nautilus/codegen",
    "engines": "nautilus/engines",
    "cli": "nautilus/cli",
    "bench": "nautilus/bench",
}
#: What the tests read besides the package.
ALSO_COPY = ["tests", "schemas", "generated", "docs", "README.md", "Makefile"]
#: Tests that exercise the modules above in-process (subprocess tests never see mutants), kept
#: to those that run in well under a second each: every mutant reruns the tests that reach it.
TEST_SELECTION = [
    "tests/wire",
    "tests/runtime/test_delivery_contract.py",
    "tests/runtime/test_wire_and_config.py",
    "tests/runtime/test_in_process_transport.py",
    "tests/registry",
    "tests/schema",
    "tests/contract/test_fingerprint.py",
    "tests/contract/test_released_fingerprints.py",
    "tests/operator/test_trim.py",
    "tests/operator/test_dlq.py",
    "tests/operator/test_dlq_on_the_server.py",
]
#: Slow tests are left out; so are the release checks, which need the git history the staging
#: copy does not have, and one test whose outcome depends on the machine's load (its buffer is
#: flushed by time as well as by size), which a clean run must not fail.
PYTEST_ARGS = [
    "-m",
    "not slow",
    "-p",
    "no:cacheprovider",
    "-q",
    "--ignore=tests/schema/test_release.py",
    "--deselect",
    "tests/runtime/test_redis_delivery.py::test_bulk_publisher_writes_the_same_entries_synchronously",
]
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
_EQUIVALENT = re.compile(r"^\|\s*`(nautilus\.[^`]+__mutmut_\d+)`\s*\|")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants", ".venv", "build")


def _stage_module(path: str) -> str:
    folder, _, rest = path.partition("/")
    return f"src/{PACKAGES[folder]}/{rest}"


def module_name(path: str) -> str:
    """`runtime/wire.py` → `nautilus.runtime.wire`."""
    return _stage_module(path).removeprefix("src/").removesuffix(".py").replace("/", ".")


def stage(modules: list[str]) -> None:
    """Lay out build/mutation/ as the installed package plus what the tests read."""
    shutil.rmtree(STAGE, ignore_errors=True)
    package = STAGE / "src" / "nautilus"
    shutil.copytree(ROOT / "generated" / "nautilus", package, ignore=_IGNORED)
    for folder, target in PACKAGES.items():
        shutil.copytree(ROOT / folder, STAGE / "src" / target, ignore=_IGNORED)
    for name in ALSO_COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, STAGE / name, ignore=_IGNORED)
        else:
            shutil.copy2(source, STAGE / name)
    settings = [
        "",
        "[tool.mutmut]",
        'source_paths = ["src"]',
        f"only_mutate = {json.dumps([_stage_module(m) for m in modules])}",
        f"also_copy = {json.dumps(ALSO_COPY)}",
        f"pytest_add_cli_args = {json.dumps(PYTEST_ARGS)}",
        f"pytest_add_cli_args_test_selection = {json.dumps(TEST_SELECTION)}",
        "timeout_multiplier = 3.0",
        "",
    ]
    pyproject = (ROOT / "pyproject.toml").read_text()
    (STAGE / "pyproject.toml").write_text(pyproject + "\n".join(settings))


def run_mutmut(only: list[str] | None = None) -> None:
    """One worker; with `only` (project paths), just those modules' mutants."""
    names = [module_name(path) + ".*" for path in only or []]
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", "1", *names],
        cwd=STAGE,
        check=False,
    )


def results() -> dict[str, str]:
    """Every mutant's status, by mutant name."""
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=STAGE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    statuses = {}
    for line in listing.splitlines():
        name, separator, status = line.strip().rpartition(": ")
        if separator and "__mutmut_" in name:
            statuses[name] = status
    return statuses


def equivalent_mutants() -> set[str]:
    """Mutants judged equivalent in docs/testing.md (table rows starting with the name)."""
    if not DOCS.exists():
        return set()
    return {m.group(1) for m in map(_EQUIVALENT.match, DOCS.read_text().splitlines()) if m}


def report(modules: list[str], statuses: dict[str, str], target: float) -> bool:
    """Per module: killed, checked, equivalent survivors, the score over the checked mutants, and
    how many were not reached by any selected test or not checked yet (an interrupted run)."""
    equivalent = equivalent_mutants()
    passed = True
    print(
        f"{'module':30} {'total':>6} {'checked':>8} {'killed':>7} {'equiv':>6} {'score':>7}  "
        "not killed"
    )
    for path in modules:
        prefix = module_name(path) + "."
        mine = {name: s for name, s in statuses.items() if name.startswith(prefix)}
        counts = Counter("killed" if s in KILLED else s for s in mine.values())
        checked = len(mine) - counts["not checked"]
        equal = {name for name, s in mine.items() if name in equivalent and s not in KILLED}
        judged = checked - len(equal)
        score = 100.0 * counts["killed"] / judged if judged else 100.0
        passed &= score >= target and checked == len(mine)
        others = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != "killed")
        print(
            f"{path:30} {len(mine):>6} {checked:>8} {counts['killed']:>7} {len(equal):>6} "
            f"{score:>6.1f}%  {others or '-'}"
        )
    survivors = sorted(
        name
        for name, s in statuses.items()
        if s not in KILLED and s != "not checked" and name not in equivalent
    )
    if survivors:
        print("\nnot killed (and not listed as equivalent):")
        print("\n".join(f"  {name}: {statuses[name]}" for name in survivors))
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=85.0, help="percent killed per module")
    parser.add_argument("--module", action="append", help="project path (default: all nine)")
    parser.add_argument(
        "--report-only", action="store_true", help="print the last run's scores again"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep build/mutation and its results; (re)check the --module ones, or the rest",
    )
    args = parser.parse_args()
    modules = args.module or MODULES
    if not args.report_only:
        if not (args.resume and STAGE.exists()):
            stage(MODULES if args.resume else modules)
        run_mutmut(args.module if args.resume else None)
        modules = MODULES if args.resume else modules
    return 0 if report(modules, results(), args.target) else 1


if __name__ == "__main__":
    raise SystemExit(main())
