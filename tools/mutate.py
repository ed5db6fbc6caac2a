"""`make mutate`: mutation testing of the modules that carry the delivery contract.

mutmut derives a module's import name from its path under `src/`, while this project maps its
folders onto the `nautilus` namespace (pyproject's package-dir: `runtime/` is `nautilus.runtime`).
So each module is mutated in a staging copy of its own, `build/mutation/<module>/`, where the
package is laid out as it is installed (`src/nautilus/...`: the generated packages plus the
hand-written folders), beside copies of the tests, schemas and docs they read. mutmut puts its
mutated copy of `src` first on `sys.path`, ahead of the editable install, so the tests import the
mutants.

Each module has its own selection of tests (`TESTS`): those that exercise it in-process. mutmut
first runs the selection once to learn which tests reach which function, then reruns, for each
mutant, the tests that reach the mutated function until one fails; a survivor costs all of them,
so a module's selection is kept to the tests that can tell its mutants apart.

It runs one worker (`--max-children 1`: the machine is shared) and prints, per module, the
mutants killed out of those generated, and the score with the equivalent mutants listed in
docs/testing.md set aside. Exit status 1 when a module scores below the target.

    python tools/mutate.py [--target 85] [--module runtime/wire.py ...] [--resume] [--survivors]
                           [--report-only] [--function Consumer._read ...]

`--function` (with one `--module`) narrows a run to the mutants of the functions named
(`Consumer._read` for a method, `_best_effort_streams` for a module-level function): mutmut
still learns once which tests reach which function, then checks only those mutants, and the
report scores them alone. It is how a change to a few functions of a large module is measured
without its whole run (the consumer's 800 mutants take hours on the shared machine).

An interrupted run keeps its results in build/mutation/<module>/; `--resume` goes on from them,
and `--survivors` checks the survivors again against the current tests (both keep the staged
source, so mutant names stay those of the first run; restage, without either, after the module
itself changed).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from fnmatch import fnmatch
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
#: Per module, the tests that exercise it in-process (subprocess tests never see mutants).
_DELIVERY = "tests/runtime/test_delivery_contract.py"
_ON_THE_BUS = "tests/registry/test_schema_versions_on_the_bus.py"
TESTS: dict[str, list[str]] = {
    "runtime/wire.py": [
        "tests/wire",
        "tests/runtime/test_wire_and_config.py",
        _DELIVERY,
        _ON_THE_BUS,
    ],
    "runtime/lanes.py": [
        "tests/wire/test_entries_and_lanes.py",
        "tests/cluster/test_key_layout.py",
        _DELIVERY,
    ],
    "runtime/dead_letter.py": [
        "tests/wire/test_dead_letter_entries.py",
        "tests/operator/test_dlq.py",
        "tests/operator/test_dlq_on_the_server.py",
        _DELIVERY,
        _ON_THE_BUS,
    ],
    "runtime/trim.py": [
        "tests/wire/test_trimming.py",
        "tests/operator/test_trim.py",
        "tests/runtime/test_trim_never_stops.py",
    ],
    "runtime/consumer.py": [
        # The consumer is the same on a cluster: its cluster variants would start a cluster for
        # every mutant, and they are the transport's tests.
        "-k",
        "not cluster",
        "tests/wire",
        _DELIVERY,
        "tests/runtime/test_in_process_transport.py",
        "tests/runtime/test_reading_on_redis.py",
        "tests/runtime/test_redis_delivery.py",
        "tests/runtime/test_wire_and_config.py",
        "tests/runtime/test_best_effort_delivery.py",
        "tests/runtime/test_consume_loop.py",
        "tests/runtime/test_held_entries.py",
        _ON_THE_BUS,
        "tests/operator/test_dlq_on_the_server.py",
    ],
    "runtime/publisher.py": [
        "tests/wire/test_entries_and_lanes.py",
        _DELIVERY,
        "tests/runtime/test_in_process_transport.py",
        "tests/runtime/test_publish_outcomes.py",
        "tests/runtime/test_prepared_writes.py",
        "tests/runtime/test_redis_delivery.py",
        "tests/runtime/test_wire_and_config.py",
    ],
    "runtime/schema/registry.py": [
        # Not test_registry_writes_in_one_place.py: it reads the project's files, not the stage's.
        "tests/registry/test_registry_details.py",
        "tests/registry/test_schema_registry.py",
        _ON_THE_BUS,
        "tests/runtime/test_reading_on_redis.py",
        "tests/security/test_registry_identity.py",
        "tests/wire/test_dead_letter_entries.py",
        "tests/operator/test_schema_registry_cli.py",
        "tests/operator/test_schema_register_options.py",
    ],
    "runtime/schema/fingerprint.py": [
        "tests/contract/test_fingerprint.py",
        "tests/contract/test_fingerprint_canonical_form.py",
        "tests/contract/test_fingerprint_spec.py",
        "tests/contract/test_released_fingerprints.py",
    ],
    "runtime/schema/rules.py": [
        "tests/schema/test_compat_check.py",
        "tests/schema/test_compat_modes.py",
        "tests/schema/test_compat_testdata.py",
        "tests/schema/test_violation_reports.py",
        "tests/registry/test_schema_registry.py",
        "tests/registry/test_registry_details.py",
    ],
}
#: Slow tests are left out, and one test whose outcome depends on the machine's load (its buffer
#: is flushed by time as well as by size), which a clean run must not fail.
PYTEST_ARGS = [
    "-m",
    "not slow",
    "-p",
    "no:cacheprovider",
    "-q",
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


def stage_dir(path: str) -> Path:
    """The module's staging copy: build/mutation/nautilus.runtime.wire/."""
    return STAGE / module_name(path)


def _copy_read_files(stage: Path) -> None:
    """The tests, schemas and docs, as they are now (mutmut copies them on into mutants/)."""
    for name in ALSO_COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, stage / name, ignore=_IGNORED, dirs_exist_ok=True)
        else:
            shutil.copy2(source, stage / name)


def _settings(path: str, timeout_multiplier: float) -> str:
    """The [tool.mutmut] table of the module's staging copy."""
    return "\n".join(
        [
            "",
            "[tool.mutmut]",
            'source_paths = ["src"]',
            f"only_mutate = {json.dumps([_stage_module(path)])}",
            f"also_copy = {json.dumps(ALSO_COPY)}",
            f"pytest_add_cli_args = {json.dumps(PYTEST_ARGS)}",
            f"pytest_add_cli_args_test_selection = {json.dumps(TESTS[path])}",
            f"timeout_multiplier = {timeout_multiplier}",
            "",
        ]
    )


def stage(path: str, timeout_multiplier: float) -> None:
    """Lay out the module's staging copy as the installed package plus what the tests read."""
    target = stage_dir(path)
    shutil.rmtree(target, ignore_errors=True)
    package = target / "src" / "nautilus"
    shutil.copytree(ROOT / "generated" / "nautilus", package, ignore=_IGNORED)
    for folder, into in PACKAGES.items():
        shutil.copytree(ROOT / folder, target / "src" / into, ignore=_IGNORED)
    _copy_read_files(target)
    pyproject = (ROOT / "pyproject.toml").read_text()
    (target / "pyproject.toml").write_text(pyproject + _settings(path, timeout_multiplier))


def restage_tests(path: str, timeout_multiplier: float) -> None:
    """Keep the staged source; take the current tests, selection and timeout. mutmut then
    collects the new tests' stats, and checks timed-out mutants again if the timeout changed."""
    target = stage_dir(path)
    _copy_read_files(target)
    pyproject = (target / "pyproject.toml").read_text()
    kept = pyproject[: pyproject.index("\n[tool.mutmut]")]
    (target / "pyproject.toml").write_text(kept + _settings(path, timeout_multiplier))


def function_patterns(path: str, functions: list[str]) -> list[str]:
    """mutmut's names for the mutants of `functions` of the module at `path`, as patterns:
    `Consumer._read` → `nautilus.runtime.consumer.xǁConsumerǁ_read__mutmut_*`."""
    patterns = []
    for function in functions:
        owner, _, name = function.rpartition(".")
        mangled = f"x\u01c1{owner}\u01c1{name}" if owner else f"x_{name}"
        patterns.append(f"{module_name(path)}.{mangled}__mutmut_*")
    return patterns


def run_mutmut(path: str, names: list[str] | None = None) -> None:
    """One worker over the module's mutants: the unchecked ones, or `names` again."""
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", "1", *(names or [])],
        cwd=stage_dir(path),
        check=False,
    )


def results(path: str) -> dict[str, str]:
    """Every mutant's status in the module's last run, by mutant name (empty before a run)."""
    if not (stage_dir(path) / "mutants").exists():
        return {}
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=stage_dir(path),
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


def report(modules: list[str], target: float, patterns: list[str] | None = None) -> bool:
    """Per module: killed (timeouts among them), checked, equivalent survivors, the score over
    the checked mutants, and how many were not reached by any selected test or not checked yet
    (an interrupted run). With `patterns`, only the mutants whose names match them."""
    equivalent = equivalent_mutants()
    passed = True
    survivors: list[tuple[str, str]] = []
    print(
        f"{'module':30} {'total':>6} {'checked':>8} {'killed':>7} {'equiv':>6} {'score':>7}  "
        "not killed"
    )
    for path in modules:
        mine = results(path)
        if patterns:
            mine = {n: s for n, s in mine.items() if any(fnmatch(n, p) for p in patterns)}
        # A mutant judged equivalent that timed out was slowed down, not caught (the machine is
        # shared); one that a test failed on was judged wrongly, and is reported.
        equal = {n for n, s in mine.items() if n in equivalent and s not in KILLED - {"timeout"}}
        wrongly = sorted(n for n, s in mine.items() if n in equivalent and n not in equal)
        counts = Counter(
            "equivalent" if n in equal else "killed" if s in KILLED else s for n, s in mine.items()
        )
        timeouts = sum(s == "timeout" and n not in equal for n, s in mine.items())
        checked = len(mine) - counts["not checked"]
        judged = checked - len(equal)
        score = 100.0 * counts["killed"] / judged if judged else 0.0
        passed &= bool(mine) and score >= target and checked == len(mine)
        others = ", ".join(
            f"{n} {s}" for s, n in sorted(counts.items()) if s not in ("killed", "equivalent")
        )
        if timeouts:
            others = f"({timeouts} of the killed timed out) {others}"
        print(
            f"{path:30} {len(mine):>6} {checked:>8} {counts['killed']:>7} {len(equal):>6} "
            f"{score:>6.1f}%  {others or '-'}"
        )
        if wrongly:
            print(f"  killed although listed as equivalent in docs/testing.md: {wrongly}")
        survivors += sorted(
            (name, s)
            for name, s in mine.items()
            if s not in KILLED and s != "not checked" and name not in equivalent
        )
    if survivors:
        print("\nnot killed (and not listed as equivalent):")
        print("\n".join(f"  {name}: {status}" for name, status in survivors))
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=85.0, help="percent killed per module")
    parser.add_argument("--module", action="append", help="project path (default: all nine)")
    parser.add_argument(
        "--report-only", action="store_true", help="print the last run's scores again"
    )
    parser.add_argument(
        "--resume", action="store_true", help="keep the staged copy and its results; go on"
    )
    parser.add_argument(
        "--timeout-multiplier",
        type=float,
        default=3.0,
        help="a mutant times out after this many times its tests' usual duration (plus 1 s); "
        "changing it on --resume checks the timed-out mutants again",
    )
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="check the last run's survivors again with the current tests",
    )
    parser.add_argument(
        "--function",
        action="append",
        help="with one --module: only the mutants of this function (`Class.method` or `name`)",
    )
    args = parser.parse_args()
    modules = args.module or MODULES
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        parser.error(f"not a module of the delivery contract: {', '.join(unknown)}")
    if args.function and len(modules) != 1:
        parser.error("--function needs exactly one --module")
    patterns = function_patterns(modules[0], args.function) if args.function else None
    if not args.report_only:
        for path in modules:
            if (args.resume or args.survivors) and stage_dir(path).exists():
                restage_tests(path, args.timeout_multiplier)
                again = [n for n, s in results(path).items() if s not in KILLED]
                if patterns:
                    again = [n for n in again if any(fnmatch(n, p) for p in patterns)]
                run_mutmut(path, again if args.survivors else patterns)
            else:
                stage(path, args.timeout_multiplier)
                run_mutmut(path, patterns)
    return 0 if report(modules, args.target, patterns) else 1


if __name__ == "__main__":
    raise SystemExit(main())
